from __future__ import annotations

from django import forms


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
