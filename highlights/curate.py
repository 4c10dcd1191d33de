"""Curating in place: tags on highlights and sources, notes, favourites, and managing tags.

Every action is a POST to a real form. With htmx it answers with the region it changed (a
highlight's actions, a source's tags, a note, a row of the tags list), swapped in place; without
JavaScript it redirects back to `next` (checked to be on this site), where the change shows.
The work itself is in `highlights.tagging`.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import OuterRef, QuerySet
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.template.defaultfilters import floatformat, pluralize
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_http_methods, require_POST, require_safe
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import trigger_client_event

from archive.models import Source
from config.http import AuthedRequest, safe_next
from highlights import tagging
from highlights.models import Highlight, Tag
from highlights.views import SubqueryCount

TAG_COUNT_EVENT = "commonplace:tag-count"
TAG_GONE_EVENT = "commonplace:tag-gone"


# --- helpers ------------------------------------------------------------------------------------


def _back(request: AuthedRequest, fallback: str, anchor: str = "") -> HttpResponse:
    url = safe_next(request, fallback)
    if anchor and "#" not in url:
        url += f"#{anchor}"
    return HttpResponseRedirect(url)


def _first_error(error: ValidationError) -> str:
    return error.messages[0] if error.messages else "That did not work."


def _highlight(request: AuthedRequest, pk: int) -> Highlight:
    return get_object_or_404(Highlight.objects.live(request.user).select_related("source"), pk=pk)


def _source(request: AuthedRequest, pk: int) -> Source:
    return get_object_or_404(Source.objects.for_user(request.user), pk=pk)


def _tag(request: AuthedRequest, pk: int | str | None) -> Tag:
    if not str(pk or "").isdigit():
        raise Http404("No such tag.")
    return get_object_or_404(Tag, pk=int(str(pk)), user=request.user)


def _count_text(count: int) -> str:
    return f"{floatformat(count, 'g')} highlight{pluralize(count)}"


def _with_tag_count(response: HttpResponse, tag: Tag | None) -> HttpResponse:
    """Tell the page the tag's new count (its tag page shows it); the triggers have kept it."""
    if tag is not None:
        count = Tag.objects.filter(pk=tag.pk).values_list("highlight_count", flat=True).first() or 0
        trigger_client_event(response, TAG_COUNT_EVENT, {"id": tag.pk, "count": count, "text": _count_text(count)})
    return response


def _highlight_actions(
    request: AuthedRequest, pk: int, *, error: str = "", status: str = "", tag: Tag | None = None
) -> HttpResponse:
    highlight = get_object_or_404(Highlight.objects.live(request.user).prefetch_related("tags"), pk=pk)
    context = {"highlight": highlight, "error": error, "status": status}
    return _with_tag_count(render(request, "highlights/_highlight_actions.html", context), tag)


def _source_tags(request: AuthedRequest, pk: int, *, error: str = "", status: str = "") -> HttpResponse:
    source = get_object_or_404(Source.objects.for_user(request.user).prefetch_related("tags"), pk=pk)
    return render(request, "highlights/_source_tags.html", {"source": source, "error": error, "status": status})


# --- tags on highlights and sources -------------------------------------------------------------


@require_POST
def highlight_tag_add(request: AuthedRequest, pk: int) -> HttpResponse:
    highlight = _highlight(request, pk)
    tag: Tag | None = None
    error = status = ""
    try:
        tag = tagging.tag_highlight(highlight, request.POST.get("name", ""))
        status = f"Tagged “{tag.name}”."
    except ValidationError as invalid:
        error = _first_error(invalid)
    if request.htmx:
        return _highlight_actions(request, pk, error=error, status=status, tag=tag)
    if error:
        messages.error(request, error)
    return _back(request, highlight.get_absolute_url(), f"highlight-{pk}")


@require_POST
def highlight_tag_remove(request: AuthedRequest, pk: int) -> HttpResponse:
    """Take off the tag whose id is posted as `tag` (the value of the chip's button)."""
    highlight = _highlight(request, pk)
    tag = _tag(request, request.POST.get("tag"))
    tagging.untag_highlight(highlight, tag)
    if request.htmx:
        return _highlight_actions(request, pk, status=f"Removed tag “{tag.name}”.", tag=tag)
    return _back(request, highlight.get_absolute_url(), f"highlight-{pk}")


@require_POST
def source_tag_add(request: AuthedRequest, pk: int) -> HttpResponse:
    source = _source(request, pk)
    error = status = ""
    try:
        tag = tagging.tag_source(source, request.POST.get("name", ""))
        status = f"Tagged “{tag.name}”."
    except ValidationError as invalid:
        error = _first_error(invalid)
    if request.htmx:
        return _source_tags(request, pk, error=error, status=status)
    if error:
        messages.error(request, error)
    return _back(request, source.get_absolute_url())


@require_POST
def source_tag_remove(request: AuthedRequest, pk: int) -> HttpResponse:
    source = _source(request, pk)
    tag = _tag(request, request.POST.get("tag"))
    tagging.untag_source(source, tag)
    if request.htmx:
        return _source_tags(request, pk, status=f"Removed tag “{tag.name}”.")
    return _back(request, source.get_absolute_url())


@require_safe
def tag_suggest(request: AuthedRequest) -> HttpResponse:
    """The user's tag names matching what is typed, as <option>s for a <datalist>."""
    typed = (request.GET.get("name") or request.GET.get("q") or "")[: tagging.NAME_MAX]
    return render(request, "highlights/_tag_options.html", {"names": tagging.suggest(request.user, typed)})


# --- favourites ---------------------------------------------------------------------------------


@require_POST
def highlight_favorite(request: AuthedRequest, pk: int) -> HttpResponse:
    """Set (favorite=1) or clear (favorite=0) the favourite; without a value, toggle it."""
    highlight = _highlight(request, pk)
    value = request.POST.get("favorite")
    favorite = value.lower() in {"1", "true", "on", "yes"} if value is not None else not highlight.favorite
    tagging.set_favorite(highlight, favorite)
    if request.htmx:
        return _highlight_actions(
            request, pk, status="Marked as a favourite." if favorite else "No longer a favourite."
        )
    return _back(request, highlight.get_absolute_url(), f"highlight-{pk}")


# --- notes --------------------------------------------------------------------------------------


def _note(request: AuthedRequest, item: Highlight | Source, kind: str) -> HttpResponse:
    """A highlight's note (kind "h") or a source's document note (kind "s").

    GET: the note's form (a page of its own without htmx); `?cancel=1` with htmx: the note as
    shown. POST: save it, then show it (htmx) or go back."""
    anchor = f"highlight-{item.pk}" if kind == "h" else f"note-s-{item.pk}"
    fallback = item.get_absolute_url()
    here = (request.htmx.current_url_abs_path if request.htmx else None) or fallback
    context: dict[str, Any] = {"item": item, "kind": kind, "next_url": safe_next(request, here)}
    if request.method == "POST":
        tagging.set_note(item, request.POST.get("note", ""))
        if not request.htmx:
            return _back(request, fallback, anchor)
        if kind == "h":
            context["highlight"] = Highlight.objects.prefetch_related("tags").get(pk=item.pk)
        context["status"] = "Note saved."
        return render(request, "highlights/note.html#saved", context)
    if request.htmx:
        part = "#display" if request.GET.get("cancel") else "#form"
        return render(request, "highlights/note.html" + part, context)
    return render(request, "highlights/note.html", context)


@require_http_methods(["GET", "HEAD", "POST"])
@vary_on_headers("HX-Request")
def highlight_note(request: AuthedRequest, pk: int) -> HttpResponse:
    return _note(request, _highlight(request, pk), "h")


@require_http_methods(["GET", "HEAD", "POST"])
@vary_on_headers("HX-Request")
def source_note(request: AuthedRequest, pk: int) -> HttpResponse:
    return _note(request, _source(request, pk), "s")


# --- managing tags ------------------------------------------------------------------------------


def tags_with_counts(user: Any) -> QuerySet[Tag]:
    """The user's tags, each with `source_count` (live sources carrying it), as /tags/ lists them."""
    source_tags = Tag.sources.through.objects.filter(tag=OuterRef("pk"), source__deleted_at__isnull=True)
    return Tag.objects.filter(user=user).annotate(source_count=SubqueryCount(source_tags.order_by().values("pk")))


def _tag_row(request: AuthedRequest, pk: int, **extra: Any) -> HttpResponse:
    tag = get_object_or_404(tags_with_counts(request.user), pk=pk)
    return render(request, "highlights/tag_edit.html#row", {"tag": tag, **extra})


def _after_tag_change(request: AuthedRequest, old_url: str, new_url: str) -> str:
    """Back to `next`, unless it was the old tag's own page: then the new one (or the list)."""
    tags_url = reverse("highlights:tags")
    target = safe_next(request, tags_url)
    if unquote(target.split("?")[0].split("#")[0]) == unquote(old_url):
        return new_url or tags_url
    return target


@require_safe
@vary_on_headers("HX-Request")
def tag_edit(request: AuthedRequest, pk: int) -> HttpResponse:
    """Rename or delete a tag: a row's form on /tags/ (htmx; `?cancel=1` puts the row back), or a page."""
    if request.htmx:
        if request.GET.get("cancel"):
            return _tag_row(request, pk)
        return render(request, "highlights/tag_edit.html#row-form", {"tag": _tag(request, pk)})
    tag = get_object_or_404(tags_with_counts(request.user), pk=pk)
    next_url = safe_next(request, reverse("highlights:tags"))
    return render(request, "highlights/tag_edit.html", {"tag": tag, "next_url": next_url})


@require_POST
def tag_rename(request: AuthedRequest, pk: int) -> HttpResponse:
    tag = _tag(request, pk)
    old_name, old_url = tag.name, tag.get_absolute_url()
    try:
        survivor = tagging.rename(tag, request.POST.get("name", ""))
    except ValidationError as invalid:
        if request.htmx:
            return render(request, "highlights/tag_edit.html#row-form", {"tag": tag, "error": _first_error(invalid)})
        messages.error(request, _first_error(invalid))
        back = safe_next(request, "")
        return redirect(reverse("highlights:tag_edit", args=[pk]) + (f"?{urlencode({'next': back})}" if back else ""))
    merged = survivor.pk != pk
    if merged:
        said = f"Merged “{old_name}” into “{survivor.name}”."
    elif survivor.name != old_name:
        said = f"Renamed “{old_name}” to “{survivor.name}”."
    else:
        said = "Nothing to change."
    if request.htmx:
        response = _tag_row(request, survivor.pk, status=said, merged_from=pk if merged else None)
        if merged:
            trigger_client_event(response, TAG_GONE_EVENT, {"id": pk})
        return response
    messages.success(request, said)
    return redirect(_after_tag_change(request, old_url, survivor.get_absolute_url()))


@require_POST
def tag_delete(request: AuthedRequest, pk: int) -> HttpResponse:
    tag = _tag(request, pk)
    name, old_url = tag.name, tag.get_absolute_url()
    tagging.delete(tag)
    said = f"Deleted the tag “{name}”; its highlights and sources stay."
    if request.htmx:
        response = render(request, "highlights/tag_edit.html#gone", {"status": said})
        return trigger_client_event(response, TAG_GONE_EVENT, {"id": pk})
    messages.success(request, said)
    return redirect(_after_tag_change(request, old_url, ""))
