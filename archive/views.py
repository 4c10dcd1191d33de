from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Count, Prefetch, Q, Sum
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import HttpResponseStopPolling

from archive import exporting, importing
from archive.forms import ImportForm
from archive.models import ImportFile, ImportJob, Source
from archive.tasks import import_job as import_job_task
from config.http import AuthedRequest
from highlights.models import Highlight


@require_http_methods(["GET", "POST"])
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
    recent = ImportJob.objects.filter(user=request.user).annotate(file_count=Count("files")).order_by("-created_at")[:5]
    return render(request, "archive/import.html", {"form": form, "recent": recent})


@require_GET
def import_history(request: AuthedRequest) -> HttpResponse:
    jobs = (
        ImportJob.objects.filter(user=request.user)
        .annotate(
            file_count=Count("files"),
            highlights_created=Sum("files__highlights_created"),
            errors=Count("files", filter=Q(files__status=ImportFile.Status.ERROR)),
        )
        .order_by("-created_at")
    )
    page = Paginator(jobs, 50).get_page(request.GET.get("page"))
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
        if outcome.status == ImportFile.Status.UNCHANGED:
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


@require_GET
@vary_on_headers("HX-Request")
def import_job(request: AuthedRequest, pk: int) -> HttpResponse:
    job = get_object_or_404(ImportJob, pk=pk, user=request.user)
    files = list(job.files.all())
    ids = {pk for f in files for pk in f.source_ids}
    sources = Source.objects.for_user(request.user).in_bulk(ids) if ids else {}
    for f in files:
        f.sources = [sources[pk] for pk in f.source_ids if pk in sources]  # type: ignore[attr-defined]
    context = {"job": job, "files": files, "totals": importing.totals(files)}
    if request.htmx:
        response = render(request, "archive/import_job.html#progress", context)
        if job.finished:
            response.status_code = HttpResponseStopPolling.status_code
        return response
    return render(request, "archive/import_job.html", context)


@require_GET
def source_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    live = Highlight.objects.filter(deleted_at__isnull=True).prefetch_related("tags").order_by("position", "pk")
    source = get_object_or_404(
        Source.objects.for_user(request.user).prefetch_related(
            "tags",
            "sourceauthor_set__author",
            Prefetch("highlights", queryset=live, to_attr="live_highlights"),
        ),
        pk=pk,
    )
    return render(
        request,
        "archive/source.html",
        {"source": source, "highlights": source.live_highlights},
    )


@require_GET
def source_markdown(request: AuthedRequest, pk: int) -> HttpResponse:
    source = get_object_or_404(Source.objects.for_user(request.user), pk=pk)
    body = exporting.markdown_for(source)
    response = HttpResponse(body.encode(), content_type="text/markdown; charset=utf-8")
    response["Content-Disposition"] = content_disposition(exporting.filename_for(source))
    return response


def content_disposition(filename: str) -> str:
    from django.utils.http import content_disposition_header

    return content_disposition_header(True, filename) or "attachment"
