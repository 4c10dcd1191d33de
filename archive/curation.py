"""Curating sources: fix their metadata, merge two that are one book, move one to the Trash.

Plain form POSTs that redirect back without JavaScript; with htmx the edit form opens in place
and a successful POST answers with a client redirect (house style). Another reader's source is a
404, and so is a source in the Trash (except to restore it).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.postgres.search import TrigramSimilarity
from django.core.validators import URLValidator
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import HttpResponseClientRedirect

from archive import merging
from archive.models import Author, Source, SourceAuthor, normalise_key
from config.http import AuthedRequest, safe_next
from highlights import curating
from highlights.filters import search_sources
from highlights.forms import CATEGORY_CHOICES
from highlights.models import Highlight

MERGE_CANDIDATES = 20


class SourceForm(forms.Form):
    title = forms.CharField(max_length=1000, widget=forms.TextInput(attrs={"autofocus": True}))
    authors = forms.CharField(
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="One per line, in order.",
    )
    url = forms.URLField(
        label="URL",
        required=False,
        max_length=2000,
        validators=[URLValidator(schemes=["http", "https"])],
        assume_scheme="https",
        help_text="An http or https address.",
    )
    category = forms.ChoiceField(required=False, choices=[("", "Uncategorised"), *CATEGORY_CHOICES])

    def clean_url(self) -> str:
        value: str = self.cleaned_data.get("url") or ""
        if value and not value.lower().startswith(("http://", "https://")):
            raise forms.ValidationError("Only http and https addresses.")
        return value

    def author_names(self) -> list[str]:
        names: dict[str, str] = {}
        for line in self.cleaned_data.get("authors", "").splitlines():
            if line.strip():
                names.setdefault(normalise_key(line), line.strip()[:500])
        return list(names.values())


def _live_source(request: AuthedRequest, pk: int) -> Source:
    return get_object_or_404(Source.objects.for_user(request.user), pk=pk)


def _author_names(source: Source) -> list[str]:
    return [link.author.name for link in SourceAuthor.objects.filter(source=source).select_related("author")]


@transaction.atomic
def save_source(source: Source, form: SourceForm) -> None:
    """Write the edit and mark the source edited, so that re-imports leave it as it is now."""
    data = form.cleaned_data
    if source.display_title:
        source.display_title = data["title"]
    else:
        source.title = data["title"]
    source.url = data["url"]
    source.category = data["category"]
    names = form.author_names()
    if names != _author_names(source):
        SourceAuthor.objects.filter(source=source).delete()
        for position, name in enumerate(names):
            author, _ = Author.objects.get_or_create(user=source.user, key=normalise_key(name), defaults={"name": name})
            SourceAuthor.objects.create(source=source, author=author, position=position)
        source.author_text = ", ".join(names)[:1000]
    source.edited_at = timezone.now()
    source.save()
    # Its identity stays what the original file gives; a Markdown export of it as it is now
    # (another title or link) should find it too when it comes back.
    merging.add_alias(source, merging.identity_now(source))


@require_http_methods(["GET", "HEAD", "POST"])
@vary_on_headers("HX-Request")
def source_edit(request: AuthedRequest, pk: int) -> HttpResponse:
    source = _live_source(request, pk)
    initial = {
        "title": source.name,
        "authors": "\n".join(_author_names(source)) or source.author_text,
        "url": source.url,
        "category": source.category,
    }
    form = SourceForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST" and form.is_valid():
        save_source(source, form)
        messages.success(request, "Saved; re-imports will keep your changes.")
        if request.htmx:
            return HttpResponseClientRedirect(source.get_absolute_url())
        return redirect(source)
    context = {"source": source, "form": form}
    if request.htmx:
        return render(request, "archive/source_edit.html#form", context)
    return render(request, "archive/source_edit.html", context)


@require_POST
def source_delete(request: AuthedRequest, pk: int) -> HttpResponse:
    source = _live_source(request, pk)
    curating.trash_source(source)
    messages.success(request, f"Moved “{source.name}” and its highlights to the Trash.")
    back = safe_next(request, reverse("highlights:library"))
    if back.split("?")[0].startswith(source.get_absolute_url()):  # its own page is gone now
        back = reverse("highlights:library")
    return HttpResponseClientRedirect(back) if request.htmx else redirect(back)


@require_POST
def source_restore(request: AuthedRequest, pk: int) -> HttpResponse:
    source = get_object_or_404(Source.objects.filter(user=request.user), pk=pk)
    curating.restore_source(source)
    if request.htmx:
        return HttpResponse("")
    messages.success(request, f"Restored “{source.name}”.")
    return redirect(safe_next(request, source.get_absolute_url()))


def _candidates(request: AuthedRequest, source: Source, q: str) -> list[Source]:
    """The sources `source` could merge with: those matching `q`, else those of similar title."""
    others = Source.objects.for_user(request.user).exclude(pk=source.pk)
    if q:
        found = search_sources(request.user, q, {}).exclude(pk=source.pk)
        return list(found[:MERGE_CANDIDATES])
    similar = others.annotate(similarity=TrigramSimilarity("title_key", source.name.lower()[:200]))
    return list(similar.filter(similarity__gt=0.25).order_by("-similarity", "-highlight_count")[:MERGE_CANDIDATES])


@require_http_methods(["GET", "HEAD", "POST"])
@vary_on_headers("HX-Request")
def source_merge(request: AuthedRequest, pk: int) -> HttpResponse:
    """Choose a source to merge into this one (GET), see what merging does (GET ?other=), merge (POST)."""
    source = _live_source(request, pk)
    other_id = request.POST.get("other") or request.GET.get("other") or ""
    other = None
    if other_id:
        other = get_object_or_404(
            Source.objects.for_user(request.user).exclude(pk=source.pk), pk=int(other_id) if other_id.isdigit() else 0
        )
    if request.method == "POST":
        if other is None:
            messages.error(request, "Choose the source to merge into this one.")
            return redirect("archive:source_merge", pk=source.pk)
        name = other.name
        outcome = merging.merge(source, other)
        messages.success(request, f"Merged “{name}” into this source: {outcome.message}.")
        if request.htmx:
            return HttpResponseClientRedirect(source.get_absolute_url())
        return redirect(source)
    q = (request.GET.get("q") or "").strip()[:200]
    context: dict[str, Any] = {"source": source, "other": other, "q": q}
    if other is not None:
        ours = Highlight.objects.filter(source=source).values("fingerprint")
        context["collapsing"] = Highlight.objects.filter(source=other, fingerprint__in=ours).count()
        context["moving"] = Highlight.objects.filter(source=other).count() - context["collapsing"]
    else:
        context["candidates"] = _candidates(request, source, q)
    if request.htmx and other is None and request.htmx.target == "merge-candidates":
        return render(request, "archive/source_merge.html#candidates", context)
    return render(request, "archive/source_merge.html", context)
