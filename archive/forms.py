from __future__ import annotations

from typing import Any

from django import forms
from django.db import models

from archive import export_template, exporting
from archive.models import Category, ExportSettings, Source


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args: object, **kwargs: object) -> None:
        kwargs.setdefault("widget", MultipleFileInput(attrs={"multiple": True}))
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]

    def clean(self, data: object, initial: object = None) -> list[object]:
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(item, initial) for item in data]
        return [single(data, initial)] if data else []


class ImportForm(forms.Form):
    """Files from the picker, a whole folder, or both; zips are unpacked on the server."""

    files = MultipleFileField(required=False, label="Files or zips")
    folder = MultipleFileField(required=False, label="A folder")

    def clean(self) -> dict[str, object]:
        cleaned = super().clean() or {}
        if not cleaned.get("files") and not cleaned.get("folder"):
            raise forms.ValidationError("Choose at least one file, folder or zip to import.")
        return cleaned

    def uploads(self) -> list[object]:
        return [
            *self.cleaned_data.get("files", []),
            *self.cleaned_data.get("folder", []),
        ]


class IdsField(forms.Field):
    """Database ids from a repeated query parameter (`?source=3&source=7`)."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value: Any) -> list[int]:
        values = value if isinstance(value, list | tuple) else [value] if value not in (None, "") else []
        try:
            ids = [int(v) for v in values]
        except (TypeError, ValueError):
            raise forms.ValidationError("Ids are whole numbers.", code="invalid") from None
        if any(not 0 < i < 2**63 for i in ids):
            raise forms.ValidationError("No such id.", code="invalid")
        return ids


class ExportSettingsForm(forms.ModelForm):
    """The Markdown layout, and the user's own template (checked before it is saved)."""

    class Meta:
        model = ExportSettings
        fields = ["layout", "template"]
        widgets = {
            "layout": forms.RadioSelect,
            "template": forms.Textarea(attrs={"rows": 22, "spellcheck": "false", "autocomplete": "off"}),
        }
        labels = {"layout": "Markdown layout", "template": "Your template"}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.initial.get("template"):
            self.initial["template"] = export_template.STARTER_TEMPLATE
        self.checked: export_template.Checked | None = None

    def clean_template(self) -> str:
        source: str = self.cleaned_data.get("template", "").replace("\r\n", "\n")
        if not source.strip():
            return ""
        self.checked = export_template.check(source)
        if self.checked.error is not None:
            raise forms.ValidationError(str(self.checked.error), code="template")
        return source

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if (
            cleaned.get("layout") == ExportSettings.Layout.CUSTOM
            and not cleaned.get("template")
            and not self.has_error("template")
        ):
            self.add_error("template", "Write a template to use your own layout.")
        return cleaned


class PreviewForm(forms.Form):
    """What the settings page previews: a layout (and template) on one of the user's sources."""

    layout = forms.ChoiceField(choices=ExportSettings.Layout.choices, required=False)
    template = forms.CharField(required=False, strip=False, max_length=export_template.MAX_TEMPLATE_CHARS)
    source = forms.ModelChoiceField(queryset=Source.objects.none(), required=False, label="Preview on")

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["source"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = Source.objects.for_user(user).order_by("-last_highlighted_at", "-pk")
        field.empty_label = None


class ExportForm(forms.Form):
    """Which sources to take out, and as what; every field may be left empty (the whole archive)."""

    class Format(models.TextChoices):
        MARKDOWN = "markdown", "Markdown (a zip, a file per source)"
        CSV = "csv", "CSV (Readwise's layout)"
        JSON = "json", "JSON backup"

    format = forms.ChoiceField(
        choices=Format.choices, initial=Format.MARKDOWN, required=False, widget=forms.RadioSelect
    )
    tag = forms.CharField(required=False, max_length=200)
    author = forms.CharField(required=False, max_length=500)
    category = forms.ChoiceField(
        choices=[
            ("", "Any category"),
            *((v, label) for v, label in Category.choices if v),
            ("uncategorised", "Uncategorised"),
        ],
        required=False,
    )
    origin = forms.CharField(required=False, max_length=100, widget=forms.HiddenInput)
    favorites = forms.BooleanField(required=False, label="Only sources with a favourite highlight")
    q = forms.CharField(required=False, max_length=500, label="Search")
    source = IdsField(required=False)  # any ids: a selection only ever holds the user's own sources

    def selection(self) -> dict[str, Any]:
        return {key: self.cleaned_data.get(key) for key in exporting.SELECTION_KEYS}

    @property
    def chosen_format(self) -> str:
        return self.cleaned_data.get("format") or self.Format.MARKDOWN
