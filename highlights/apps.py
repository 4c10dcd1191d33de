from __future__ import annotations

from django.apps import AppConfig


class HighlightsConfig(AppConfig):
    name = "highlights"
    verbose_name = "Highlights"
