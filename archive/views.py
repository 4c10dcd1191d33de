from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Count, Q, Sum
from django.forms import ModelChoiceField
from django.http import HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST, require_safe
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import HttpResponseClientRedirect, HttpResponseStopPolling

from archive import export_template, exporting, importing, jobs
from archive.forms import ExportForm, ExportSettingsForm, ImportForm, PreviewForm
from archive.models import Author, ExportSettings, ImportFile, ImportJob, Source
from archive.tasks import import_job as import_job_task
from config.http import AuthedRequest
from highlights.forms import ListForm
from highlights.models import Highlight, Tag
from highlights.pagecache import kept_page
from highlights.views import SOURCE_HIGHLIGHTS_PER_PAGE, fragment, paginate


@require_http_methods(["GET", "HEAD", "POST"])
def import_page(request: AuthedRequest) -> HttpResponse:
    form = ImportForm(request.POST, request.FILES) if request.method == "POST" else ImportForm()
    if getattr(request, "upload_too_large", False):
        form.add_error(
            None,
            f"The upload is larger than {settings.COMMONPLACE_MAX_UPLOAD_MB} MB, the limit this server is set to "
            "(MAX_UPLOAD_MB). Upload fewer files at a time, or ask the owner to raise the limit.",
        )
    elif request.method == "POST" and form.is_valid():
        uploads = form.uploads()
        total_size = sum(upload.size for upload in uploads)  # type: ignore[attr-defined]
        if total_size >= settings.COMMONPLACE_BACKGROUND_IMPORT_KB * 1024:
            job = _queue_job(request, uploads)
            return redirect(job)
        job = _import_now(request, uploads)
        return _after_import(request, job)
    jobs.fail_stale(ImportJob.objects.filter(user=request.user))
    recent = ImportJob.objects.filter(user=request.user).annotate(file_count=Count("files")).order_by("-created_at")[:5]
    return render(request, "archive/import.html", {"form": form, "recent": recent})


@require_safe
def import_history(request: AuthedRequest) -> HttpResponse:
    jobs.fail_stale(ImportJob.objects.filter(user=request.user))
    rows = (
        ImportJob.objects.filter(user=request.user)
        .annotate(
            file_count=Count("files"),
            highlights_created=Sum("files__highlights_created"),
            errors=Count("files", filter=Q(files__status=ImportFile.Status.ERROR)),
        )
        .order_by("-created_at")
    )
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    return render(request, "archive/import_history.html", {"page": page})


def _name(upload: object) -> str:
    # A folder upload's name carries its relative path; keep it as a label only.
    return str(getattr(upload, "name", "upload"))[:1000]


def _import_now(request: AuthedRequest, uploads: list[object]) -> ImportJob:
    job = ImportJob.objects.create(user=request.user, status=ImportJob.Status.RUNNING, total=len(uploads))
    outcomes = importing.import_paths(request.user, ((_name(u), u.read()) for u in uploads))  # type: ignore[attr-defined]
    ImportFile.objects.bulk_create(_file_row(job, i, outcome) for i, outcome in enumerate(outcomes))
    job.done = job.total
    job.status = ImportJob.Status.DONE
    job.finished_at = timezone.now()
    job.save()
    return job


def _file_row(job: ImportJob, position: int, outcome: importing.FileOutcome) -> ImportFile:
    row = ImportFile(job=job, position=position)
    importing.apply_outcome(row, outcome)
    return row


def _queue_job(request: AuthedRequest, uploads: list[object]) -> ImportJob:
    with transaction.atomic():
        job = ImportJob.objects.create(user=request.user, total=len(uploads))
        for position, upload in enumerate(uploads):
            ImportFile.objects.create(
                job=job,
                position=position,
                name=_name(upload),
                size=upload.size,  # type: ignore[attr-defined]
                data=upload.read(),  # type: ignore[attr-defined]
            )
        transaction.on_commit(lambda: import_job_task.enqueue(job.pk))
    return job


def _after_import(request: AuthedRequest, job: ImportJob) -> HttpResponse:
    """One file, one source: go and read it. Anything else: the table of what happened."""
    files = list(job.files.all())
    source_ids = {pk for f in files for pk in f.source_ids}
    if len(files) == 1 and len(source_ids) == 1:
        outcome = files[0]
        if outcome.status == ImportFile.Status.UNCHANGED and outcome.in_trash:
            messages.info(request, f"Nothing new in {outcome.name}: {outcome.message}.")
        elif outcome.status == ImportFile.Status.UNCHANGED:
            count = outcome.highlights_unchanged
            messages.info(
                request,
                f"Already in your archive: {'all ' if count > 1 else ''}{count} highlight{'s' * (count != 1)} "
                f"of {outcome.name} {'were' if count != 1 else 'was'} here before, so nothing changed.",
            )
        else:
            messages.success(request, f"Imported {outcome.name}: {outcome.message}.")
        return redirect("archive:source", pk=source_ids.pop())
    return redirect(job)


@require_safe
@vary_on_headers("HX-Request")
def import_job(request: AuthedRequest, pk: int) -> HttpResponse:
    mine = ImportJob.objects.filter(user=request.user)
    jobs.fail_stale(mine.filter(pk=pk))  # a job whose worker stopped says so, and can be retried
    job = get_object_or_404(mine, pk=pk)
    files = list(job.files.all())
    ids = {pk for f in files for pk in f.source_ids}
    sources = Source.objects.for_user(request.user).in_bulk(ids) if ids else {}
    for f in files:
        f.sources = [sources[pk] for pk in f.source_ids if pk in sources]  # type: ignore[attr-defined]
    context = {"job": job, "files": files, "totals": importing.totals(files), "can_retry": jobs.can_retry(job)}
    if request.htmx:
        response = render(request, "archive/import_job.html#progress", context)
        if job.finished:
            response.status_code = HttpResponseStopPolling.status_code
        return response
    return render(request, "archive/import_job.html", context)


@require_POST
def import_retry(request: AuthedRequest, pk: int) -> HttpResponse:
    """Import again the files of a failed job that did not get imported; the others stay as they are."""
    job = get_object_or_404(ImportJob, pk=pk, user=request.user)
    if jobs.retry(job.pk):
        messages.info(request, "Retrying the files that were not imported.")
    else:
        messages.info(request, "This import has nothing left to retry.")
    if request.htmx:
        return HttpResponseClientRedirect(job.get_absolute_url())
    return redirect(job)


@require_safe
@vary_on_headers("HX-Request")
@kept_page()
def source_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    """A source and its highlights in reading order, a page at a time ("Load more" with htmx)."""
    form = ListForm(request.GET)
    next_page = fragment(request, form.page_number) == "#page"
    sources = Source.objects.for_user(request.user)
    if not next_page:  # the header is only drawn on the full page
        sources = sources.prefetch_related("tags").with_authors()
    source = get_object_or_404(sources, pk=pk)
    live = Highlight.objects.filter(source=source, deleted_at__isnull=True).with_tags()
    page = paginate(request, live.order_by("position", "pk"), form.page_number, SOURCE_HIGHLIGHTS_PER_PAGE)
    template = "archive/source.html#page" if next_page else "archive/source.html"
    return render(request, template, {"source": source, "page": page, "highlights": page.items})


@require_safe
def source_markdown(request: AuthedRequest, pk: int) -> HttpResponse:
    source = get_object_or_404(exporting.for_export(Source.objects.for_user(request.user)), pk=pk)
    body = exporting.markdown_for(source, exporting.renderer_for(request.user))
    response = HttpResponse(body.encode(), content_type="text/markdown; charset=utf-8")
    response["Content-Disposition"] = content_disposition(exporting.filename_for(source))
    return response


def content_disposition(filename: str) -> str:
    """`attachment` with the name twice: plain ASCII for old clients, and exactly (RFC 6266/5987).

    Quotes, backslashes and anything outside printable ASCII never reach the quoted form, so no
    title (quotes, slashes, emoji, line breaks, 300 characters) can break the header.
    """
    plain = unicodedata.normalize("NFKD", filename).encode("ascii", "ignore").decode()
    plain = re.sub(r'[^\x20-\x7e]|["\\%]', "_", plain)
    stem, dot, extension = plain.rpartition(".")
    if not stem.strip(" ._"):
        plain = f"download{dot}{extension}" if dot else "download"
    header = f'attachment; filename="{plain}"'
    if plain != filename:
        header += f"; filename*=UTF-8''{quote(filename, safe='')}"
    return header


# --- export ---------------------------------------------------------------------------------


def _export_summary(request: AuthedRequest, form: ExportForm) -> dict[str, object]:
    selection = form.selection() if form.is_valid() else {}
    sources = exporting.select_sources(request.user, selection)
    highlights = Highlight.objects.for_user(request.user).filter(source__in=sources.values("pk"))
    return {
        "selection": {key: value for key, value in selection.items() if value},
        "source_count": sources.count(),
        "highlight_count": highlights.count(),
    }


def _export_context(request: AuthedRequest, form: ExportForm) -> dict[str, object]:
    user = request.user
    return {
        "form": form,
        **_export_summary(request, form),
        "tags": Tag.objects.filter(user=user).values_list("name", flat=True)[:500],
        "authors": Author.objects.filter(user=user, sources__deleted_at__isnull=True).distinct()[:500],
        "in_trash": Source.objects.filter(user=user, deleted_at__isnull=False).count(),
        "preferences": ExportSettings.for_user(user),
    }


@require_safe
@vary_on_headers("HX-Request")
def export_page(request: AuthedRequest) -> HttpResponse:
    form = ExportForm(request.GET or None)
    if request.htmx:
        return render(request, "archive/export.html#summary", {"form": form, **_export_summary(request, form)})
    return render(request, "archive/export.html", _export_context(request, form))


@require_safe
def export_download(request: AuthedRequest) -> HttpResponseBase:
    """The selection as a streamed zip of Markdown, CSV, or JSON backup."""
    form = ExportForm(request.GET)
    if not form.is_valid():
        return render(request, "archive/export.html", _export_context(request, form), status=400)
    selection, kind = form.selection(), form.chosen_format
    sources = exporting.select_sources(request.user, selection, trash=kind == ExportForm.Format.JSON)
    if not sources.exists():
        messages.info(request, "Nothing in your archive matches that selection, so there is nothing to download.")
        return redirect(f"{reverse('archive:export')}?{request.GET.urlencode()}")
    response: StreamingHttpResponse
    if kind == ExportForm.Format.CSV:
        chunks = (text.encode() for text in exporting.stream_csv(sources.iterator(chunk_size=exporting.CHUNK_SIZE)))
        response = StreamingHttpResponse(chunks, content_type="text/csv; charset=utf-8")
        name = exporting.download_name(selection, "csv")
    elif kind == ExportForm.Format.JSON:
        whole = not any(selection.values())
        spare = exporting.unused_tags(request.user) if whole else []
        chunks = (text.encode() for text in exporting.stream_json(sources, tags=spare))
        response = StreamingHttpResponse(chunks, content_type="application/json")
        name = exporting.download_name(selection, "json", what="backup" if whole else "highlights")
    else:
        render_markdown = exporting.renderer_for(request.user)
        zipped = exporting.stream_zip(sources, render_markdown)
        response = StreamingHttpResponse(zipped, content_type="application/zip")
        name = exporting.download_name(selection, "zip")
    response["Content-Disposition"] = content_disposition(name)
    response["X-Content-Type-Options"] = "nosniff"
    return response


# --- settings -------------------------------------------------------------------------------


def _settings_context(request: AuthedRequest, form: ExportSettingsForm, preview: PreviewForm) -> dict[str, object]:
    return {
        "form": form,
        "preview_form": preview,
        "preview": _preview(request, preview),
        "variables": export_template.VARIABLES,
        "extra_filters": export_template.EXTRA_FILTERS,
        "allowed_filters": export_template.ALLOWED_FILTERS,
        "allowed_tags": ("for", *export_template.ALLOWED_TAGS),
    }


def _preview(request: AuthedRequest, form: PreviewForm) -> dict[str, object]:
    """The chosen layout on one of the user's sources (or an example), or what is wrong."""
    form.is_valid()
    data = form.cleaned_data  # what is valid of it: a source not the user's own is dropped
    source_field = form.fields["source"]
    assert isinstance(source_field, ModelChoiceField)
    source = data.get("source") or source_field.queryset.first()
    if source is not None:
        source = exporting.for_export(Source.objects.filter(pk=source.pk)).get()
        document, label = exporting.document_for(source), source.name
    else:
        document, label = export_template.SAMPLE_DOCUMENT, "an example source"
    layout = data.get("layout") or ExportSettings.Layout.COMMONPLACE
    template = (data.get("template") or "").replace("\r\n", "\n")
    result: dict[str, object] = {"label": label, "layout": layout}
    if layout == ExportSettings.Layout.CUSTOM:
        if not template.strip():
            result["error"] = "Write a template to see it here."
            return result
        checked = export_template.check(template, document)
        if checked.error is not None:
            line = checked.error.line
            lines = template.split("\n")
            result["error"] = checked.error.message
            result["line"] = line
            result["line_text"] = lines[line - 1] if line and line <= len(lines) else ""
            return result
        assert checked.template is not None
        output = export_template.render(checked.template, document)
    else:
        output = exporting.renderer(layout)(document)
    result["output"] = output[:PREVIEW_CHARS]
    result["cut"] = len(output) > PREVIEW_CHARS
    return result


PREVIEW_CHARS = 20_000


@require_safe
def settings_page(request: AuthedRequest) -> HttpResponse:
    preferences = ExportSettings.for_user(request.user)
    form = ExportSettingsForm(instance=preferences)
    preview = PreviewForm({"layout": preferences.layout, "template": form.initial["template"]}, user=request.user)
    return render(request, "archive/settings.html", _settings_context(request, form, preview))


@require_POST
def settings_export(request: AuthedRequest) -> HttpResponse:
    """Save the export section; htmx gets the section back (with errors) or a redirect."""
    form = ExportSettingsForm(request.POST, instance=ExportSettings.for_user(request.user))
    if form.is_valid():
        form.save()
        messages.success(request, "Saved: downloads now use this layout.")
        if request.htmx:  # no #fragment: the same URL with one would only scroll, not reload
            return HttpResponseClientRedirect(reverse("archive:settings"))
        return redirect(reverse("archive:settings") + "#export")
    preview = PreviewForm(request.POST, user=request.user)
    context = _settings_context(request, form, preview)
    # Errors come back with 200: htmx swaps in only successful responses.
    return render(request, "archive/settings.html#export-section" if request.htmx else "archive/settings.html", context)


@require_POST
def settings_preview(request: AuthedRequest) -> HttpResponse:
    """The live preview (htmx, as you type), or the whole page for a browser without JavaScript."""
    preview = PreviewForm(request.POST, user=request.user)
    if request.htmx:
        return render(request, "archive/settings.html#export-preview", {"preview": _preview(request, preview)})
    form = ExportSettingsForm(request.POST, instance=ExportSettings.for_user(request.user))
    return render(request, "archive/settings.html", _settings_context(request, form, preview))
