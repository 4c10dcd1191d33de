from __future__ import annotations

from django.db.models import Count, Q
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from archive.models import Author, Source
from config.http import AuthedRequest
from highlights.models import Highlight, Tag


def _sources(request: AuthedRequest):  # type: ignore[no-untyped-def]
    return (
        Source.objects.for_user(request.user)
        .annotate(highlight_count=Count("highlights", filter=Q(highlights__deleted_at__isnull=True)))
        .prefetch_related("sourceauthor_set__author")
        .order_by("-last_highlighted_at", "-pk")
    )


@require_GET
def library(request: AuthedRequest) -> HttpResponse:
    sources = _sources(request)[:100]
    return render(request, "highlights/library.html", {"sources": sources})


@require_GET
def author_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    author = get_object_or_404(Author, pk=pk, user=request.user)
    sources = _sources(request).filter(authors=author)
    return render(request, "highlights/author.html", {"author": author, "sources": sources})


@require_GET
def tag_detail(request: AuthedRequest, name: str) -> HttpResponse:
    tag = get_object_or_404(Tag, user=request.user, name__iexact=name)
    highlights = (
        Highlight.objects.for_user(request.user)
        .filter(tags=tag)
        .select_related("source")
        .prefetch_related("tags")
        .order_by("source", "position")[:200]
    )
    sources = _sources(request).filter(tags=tag)
    return render(
        request,
        "highlights/tag.html",
        {"tag": tag, "highlights": highlights, "sources": sources},
    )


@require_GET
def highlight_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    highlight = get_object_or_404(
        Highlight.objects.for_user(request.user).select_related("source").prefetch_related("tags"),
        pk=pk,
    )
    return render(
        request,
        "highlights/detail.html",
        {"highlight": highlight, "source": highlight.source},
    )
