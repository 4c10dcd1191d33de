"""The query-string forms of the browsing pages: filters, sorts, the search box, the page number.

Bad values are dropped, not reported: a hand-edited or outdated URL shows the library with the
filters that still make sense rather than an error page.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from django import forms
from django.http import QueryDict

from archive.models import Category

SOURCE_SORTS = [
    ("recent", "Recently highlighted"),
    ("added", "Recently added"),
    ("title", "Title"),
    ("author", "Author"),
    ("count", "Most highlights"),
]
HIGHLIGHT_SORTS = [
    ("relevance", "Best match"),
    ("recent", "Newest first"),
    ("oldest", "Oldest first"),
]
AUTHOR_SORTS = [("name", "Name"), ("count", "Most highlights")]
TAG_SORTS = [("name", "Name"), ("count", "Most highlights")]
CATEGORY_CHOICES = [(value, label) for value, label in Category.choices if value]


@dataclass(frozen=True)
class Filters:
    """What the library, search, author and tag pages are narrowed to, from their query string."""

    category: str = ""
    origin: str = ""
    author: int | None = None
    tag: str = ""
    favorites: bool = False

    @property
    def active(self) -> bool:
        return any(getattr(self, f.name) for f in fields(self))

    def params(self) -> dict[str, str]:
        """The filters as query parameters (only those set)."""
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        return {
            key: "1" if value is True else str(value) for key, value in values.items() if value not in ("", None, False)
        }


class FilterForm(forms.Form):
    sort = forms.ChoiceField(required=False, choices=SOURCE_SORTS)
    category = forms.ChoiceField(required=False, choices=[("", "All categories"), *CATEGORY_CHOICES])
    origin = forms.CharField(required=False, max_length=100)
    author = forms.IntegerField(required=False, min_value=1, max_value=2**63 - 1)
    tag = forms.CharField(required=False, max_length=200)
    favorites = forms.BooleanField(required=False)
    page = forms.IntegerField(required=False, min_value=1, max_value=1_000_000)

    default_sort = "recent"

    def __init__(self, data: QueryDict | dict[str, Any] | None = None) -> None:
        super().__init__(data if data is not None else {})
        self.is_valid()  # keeps what is valid in cleaned_data; invalid values are ignored

    def value(self, name: str) -> Any:
        return self.cleaned_data.get(name) or self.fields[name].initial

    @property
    def filters(self) -> Filters:
        return Filters(
            category=self.value("category") or "",
            origin=self.value("origin") or "",
            author=self.value("author"),
            tag=self.value("tag") or "",
            favorites=bool(self.value("favorites")),
        )

    @property
    def sort_key(self) -> str:
        return self.value("sort") or self.default_sort

    @property
    def page_number(self) -> int:
        return self.value("page") or 1


class SearchForm(FilterForm):
    q = forms.CharField(required=False, max_length=500, strip=False)
    sort = forms.ChoiceField(required=False, choices=HIGHLIGHT_SORTS)

    default_sort = "relevance"

    @property
    def query(self) -> str:
        value = self.value("q") or ""
        return value if value.strip() else ""


class ListForm(forms.Form):
    """The authors and tags lists: a name filter, a sort and a page."""

    q = forms.CharField(required=False, max_length=200)
    sort = forms.ChoiceField(required=False, choices=AUTHOR_SORTS)
    page = forms.IntegerField(required=False, min_value=1, max_value=1_000_000)

    def __init__(self, data: QueryDict | dict[str, Any] | None = None) -> None:
        super().__init__(data if data is not None else {})
        self.is_valid()

    @property
    def query(self) -> str:
        return self.cleaned_data.get("q") or ""

    @property
    def sort_key(self) -> str:
        return self.cleaned_data.get("sort") or "name"

    @property
    def page_number(self) -> int:
        return self.cleaned_data.get("page") or 1
