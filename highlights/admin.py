from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin

from highlights.models import Highlight, Tag


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    list_display = ["name", "user", "created_at"]
    list_filter = ["user"]
    search_fields = ["name"]
    filter_horizontal = ["sources"]


class HighlightAdminForm(forms.ModelForm):
    def clean(self) -> dict[str, Any]:
        data = super().clean()
        source, user = data.get("source"), data.get("user")
        if source is not None and user is not None and source.user_id != user.pk:
            # A highlight is its source's reader's: on another's source it would be on their pages.
            self.add_error(
                "source", "This source is another reader's: choose one of this highlight's reader's sources."
            )
        return data


@admin.register(Highlight)
class HighlightAdmin(admin.ModelAdmin):
    form = HighlightAdminForm
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
