"""Curating highlights in place: edit one, act on many at once, and the Trash.

Every action is a real form POST that works without JavaScript (the answer redirects back to
the page it came from, `next`, checked to be one of ours); with htmx the same URL answers with
the fragment to swap in. Only the reader's own highlights can be touched: any other id is a 404.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST, require_safe
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import HttpResponseClientRedirect

from config.http import AuthedRequest, safe_next
from highlights import curating
from highlights.models import Highlight
from highlights.views import paginate

TRASH_PER_PAGE = 50
REFRESH_LIMIT = 1000  # the most rows a bulk answer re-draws in place


def _flag(request: AuthedRequest, name: str) -> bool:
    return (request.POST.get(name) or request.GET.get(name)) == "1"


def _row_context(request: AuthedRequest, **extra: Any) -> dict[str, Any]:
    """How a highlight is drawn where it was: with its source (tag, search) or not, with a checkbox or not."""
    return {"show_source": _flag(request, "show_source"), "selectable": _flag(request, "selectable"), **extra}


def _own(request: AuthedRequest, pk: int) -> Highlight:
    """One of the reader's highlights that is shown (not in the Trash, nor its source)."""
    return get_object_or_404(
        Highlight.objects.live(request.user).select_related("source").prefetch_related("tags"), pk=pk
    )


class TextForm(forms.Form):
    text = forms.CharField(
        label="Highlight text", widget=forms.Textarea(attrs={"rows": 6}), max_length=100_000, strip=True
    )


@require_safe
def highlight_card(request: AuthedRequest, pk: int) -> HttpResponse:
    """One highlight as a list shows it (htmx: what "Cancel" puts back); else its permalink page."""
    highlight = _own(request, pk)
    if not request.htmx:
        return redirect(highlight)
    return render(request, "highlights/_highlight.html", _row_context(request, highlight=highlight))


@require_http_methods(["GET", "HEAD", "POST"])
def highlight_edit(request: AuthedRequest, pk: int) -> HttpResponse:
    highlight = _own(request, pk)
    back = safe_next(request, highlight.get_absolute_url())
    form = TextForm(request.POST if request.method == "POST" else None, initial={"text": highlight.text})
    if request.method == "POST" and form.is_valid():
        changed = curating.edit_text(highlight, form.cleaned_data["text"])
        if request.htmx:
            return render(request, "highlights/_highlight.html", _row_context(request, highlight=highlight))
        if changed:
            messages.success(request, "Saved your edit; re-imports will keep it.")
        return redirect(back)
    context = _row_context(request, highlight=highlight, form=form, next=back)
    if request.htmx:
        return render(request, "highlights/edit.html#form", context)
    return render(request, "highlights/edit.html", context)


@require_POST
def highlight_delete(request: AuthedRequest, pk: int) -> HttpResponse:
    highlight = _own(request, pk)
    curating.trash(Highlight.objects.filter(pk=highlight.pk))
    if request.htmx:
        return render(request, "highlights/_highlight_trashed.html", _row_context(request, highlight=highlight))
    messages.success(request, "Moved the highlight to the Trash.")
    back = safe_next(request, highlight.source.get_absolute_url())
    if back.split("?")[0] == highlight.get_absolute_url():  # its own page is gone now
        back = highlight.source.get_absolute_url()
    return redirect(back)


@require_POST
def highlight_restore(request: AuthedRequest, pk: int) -> HttpResponse:
    highlight = get_object_or_404(
        Highlight.objects.filter(user=request.user).select_related("source").prefetch_related("tags"), pk=pk
    )
    curating.restore(Highlight.objects.filter(pk=highlight.pk))
    highlight.deleted_at = None
    if request.htmx:
        if _flag(request, "in_place"):  # "Undo" where it was deleted: draw it again
            return render(request, "highlights/_highlight.html", _row_context(request, highlight=highlight))
        return HttpResponse("")
    if highlight.source.deleted_at is not None:
        messages.info(request, "Restored the highlight; its source is still in the Trash.")
    else:
        messages.success(request, "Restored the highlight.")
    return redirect(safe_next(request, reverse("highlights:trash")))


class BulkForm(forms.Form):
    action = forms.ChoiceField(choices=curating.Action.choices)
    all = forms.BooleanField(required=False)
    tag_name = forms.CharField(required=False, max_length=200, strip=True)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("action") in (curating.Action.TAG, curating.Action.UNTAG) and not data.get("tag_name"):
            self.add_error("tag_name", "Type the name of the tag.")
        return data


def _ids(values: list[str]) -> list[int] | None:
    """The ids posted, or None when one is not a number."""
    if not all(value.isdigit() and len(value) < 19 for value in values):
        return None
    return [int(value) for value in values]


@require_POST
def bulk(request: AuthedRequest) -> HttpResponse:
    """Tag, untag, favourite, unfavourite or delete the chosen highlights, or all that match the list."""
    back = safe_next(request, reverse("highlights:library"))
    form = BulkForm(request.POST)
    ids = _ids(request.POST.getlist("ids"))
    error = ""
    if not form.is_valid():
        error = " ".join(message for messages_ in form.errors.values() for message in messages_)
    elif ids is None:
        error = "Those are not highlights."
    elif not form.cleaned_data["all"] and not ids:
        error = "Choose some highlights first."
    if error:
        if request.htmx:
            return render(request, "highlights/_bulk_status.html", {"error": error})
        messages.error(request, error)
        return redirect(back)
    assert ids is not None
    data = form.cleaned_data
    selection = curating.scoped(request.user, request.POST) if data["all"] else curating.chosen(request.user, ids)
    outcome = curating.apply(request.user, selection, data["action"], data["tag_name"])
    if not request.htmx:
        messages.success(request, outcome.message)
        return redirect(back)
    # Redraw, in place, the rows on the reader's screen that the action touched.
    shown = (_ids(request.POST.getlist("shown")) or []) if data["all"] else ids
    rows = (
        Highlight.objects.filter(user=request.user, pk__in=shown[:REFRESH_LIMIT])
        .select_related("source")
        .prefetch_related("tags")
    )
    context = _row_context(request, outcome=outcome, rows=list(rows), oob=True)
    return render(request, "highlights/_bulk_status.html", context)


@require_safe
@vary_on_headers("HX-Request")
def trash_page(request: AuthedRequest) -> HttpResponse:
    highlights = curating.trashed_highlights(request.user).select_related("source")
    sources = list(curating.trashed_sources(request.user))
    number = request.GET.get("page", "1")
    page = paginate(
        request, highlights, int(number) if number.isdigit() and 0 < int(number) < 10**6 else 1, TRASH_PER_PAGE
    )
    context = {"sources": sources, "page": page, "highlight_total": highlights.count()}
    return render(request, "highlights/trash.html", context)


@require_POST
def trash_restore(request: AuthedRequest) -> HttpResponse:
    """Restore the chosen highlights and sources from the Trash, or (`everything`) all of it."""
    highlight_ids, source_ids = _ids(request.POST.getlist("ids")), _ids(request.POST.getlist("sources"))
    if highlight_ids is None or source_ids is None:
        raise Http404
    highlights = curating.trashed_highlights(request.user)
    sources = curating.trashed_sources(request.user)
    if request.POST.get("everything") != "1":
        highlights = highlights.filter(pk__in=highlight_ids)
        sources = sources.filter(pk__in=source_ids)
    restored = curating.restore(highlights) + sources.update(deleted_at=None)
    if restored:
        messages.success(request, f"Restored {restored:,} item{'s' * (restored != 1)} from the Trash.")
    else:
        messages.info(request, "Choose what to restore first.")
    target = reverse("highlights:trash")
    return HttpResponseClientRedirect(target) if request.htmx else redirect(target)


@require_http_methods(["GET", "HEAD", "POST"])
def trash_empty(request: AuthedRequest) -> HttpResponse:
    """GET: what emptying would delete, and a button to confirm. POST: delete it for good."""
    if request.method == "POST":
        sources, highlights = curating.empty_trash(request.user)
        messages.success(
            request,
            f"Emptied the Trash: deleted {sources:,} source{'s' * (sources != 1)} and "
            f"{highlights:,} highlight{'s' * (highlights != 1)} for good.",
        )
        return redirect("highlights:trash")
    context = {
        "source_total": curating.trashed_sources(request.user).count(),
        "highlight_total": curating.trashed_highlights(request.user).count(),
    }
    return render(request, "highlights/trash_empty.html", context)
