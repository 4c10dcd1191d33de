from __future__ import annotations

from django.contrib import admin

from highlights.models import Highlight, Tag


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    list_display = ["name", "user", "created_at"]
    list_filter = ["user"]
    search_fields = ["name"]
    filter_horizontal = ["sources"]


@admin.register(Highlight)
class HighlightAdmin(admin.ModelAdmin):
    list_display = [
        "__str__",
        "source",
        "location",
        "favorite",
        "highlighted_at",
        "user",
        "deleted_at",
    ]
    list_filter = [
        "favorite",
        "location_kind",
        "color",
        "user",
        ("deleted_at", admin.EmptyFieldListFilter),
    ]
    search_fields = ["text", "note", "source__title", "source__display_title"]
    raw_id_fields = ["source", "user"]
    filter_horizontal = ["tags"]
    readonly_fields = ["fingerprint", "created_at", "updated_at"]
    date_hierarchy = "highlighted_at"
