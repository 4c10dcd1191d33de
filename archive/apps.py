from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate


def create_cache_table(**kwargs: Any) -> None:
    """The database cache's table is not a model; make sure every migrated database has it."""
    from django.core.management import call_command

    call_command("createcachetable", database=kwargs.get("using", "default"), verbosity=0)


class ArchiveConfig(AppConfig):
    name = "archive"
    verbose_name = "Archive"

    def ready(self) -> None:
        post_migrate.connect(create_cache_table, sender=self, dispatch_uid="archive.create_cache_table")
