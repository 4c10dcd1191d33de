from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from archive.models import Author, ImportFile, ImportJob, Source, SourceAlias, SourceAuthor


@admin.register(Author)
class AuthorAdmin(admin.ModelAdmin):
    list_display = ["name", "user"]
    list_filter = ["user"]
    search_fields = ["name", "key"]


class SourceAuthorInline(admin.TabularInline):
    model = SourceAuthor
    extra = 0
    autocomplete_fields = ["author"]


class SourceAliasInline(admin.TabularInline):
    """Identities of sources merged into this one (archive.merging): re-imports of them land here."""

    model = SourceAlias
    extra = 0
    fields = ["identity"]
    readonly_fields = ["identity"]

    def has_add_permission(self, request: HttpRequest, obj: Source | None = None) -> bool:
        return False


@admin.register(Source)
class SourceAdmin(admin.ModelAdmin):
    list_display = [
        "__str__",
        "author_text",
        "category",
        "origin",
        "user",
        "last_highlighted_at",
        "deleted_at",
    ]
    list_filter = [
        "category",
        "origin",
        "user",
        ("deleted_at", admin.EmptyFieldListFilter),
    ]
    search_fields = ["title", "display_title", "author_text", "url", "external_id"]
    readonly_fields = ["identity", "created_at", "updated_at"]
    date_hierarchy = "created_at"
    inlines = [SourceAuthorInline, SourceAliasInline]
    raw_id_fields = ["user"]


class ImportFileInline(admin.TabularInline):
    model = ImportFile
    extra = 0
    fields = [
        "name",
        "format",
        "status",
        "sources_created",
        "highlights_created",
        "skipped",
        "in_trash",
        "message",
    ]
    readonly_fields = fields
    can_delete = False


@admin.register(ImportJob)
class ImportJobAdmin(admin.ModelAdmin):
    list_display = ["pk", "user", "created_at", "status", "done", "total"]
    list_filter = ["status", "user"]
    date_hierarchy = "created_at"
    inlines = [ImportFileInline]


@admin.register(ImportFile)
class ImportFileAdmin(admin.ModelAdmin):
    list_display = ["name", "job", "format", "status", "highlights_created"]
    list_filter = ["status", "format"]
    search_fields = ["name", "message"]
    exclude = ["data"]
