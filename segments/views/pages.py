"""Segment pages: the list, one segment, refresh, freeze, delete, and uploading a list."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from segments import selectors, services
from segments.builder import pretty
from segments.compiler import CompileError
from segments.definition import referenced_segments
from segments.describe import describe
from segments.exports import members_export
from segments.forms import BreakdownForm, FreezeForm, UploadForm
from segments.models import Segment, SegmentationModel, SegmentStatus
from segments.selectors import discovery
from segments.selectors.breakdowns import member_breakdown
from segments.selectors.history import first_snapshot_day as history_first_day
from segments.selectors.sizes import model_distributions, persons_total, size_trends
from segments.views import history as history_views
from segments.views.builder import STARTERS
from segments.views.common import get_segment
from tracking.decorators import project_view
from tracking.models import Company, Project
from web.charts import Series, line_chart
from web.forms import apply_service_errors
from web.rendering import htmx_target, render_page

MEMBERS_PER_PAGE = 25
BUSY = (SegmentStatus.PENDING, SegmentStatus.COMPUTING)
UNMATCHED_SHOWN = 20
SIZE_RANGES = {"30": "Last 30 days", "90": "Last 90 days", "all": "Since the beginning"}


@project_view
@require_GET
def segment_list(request: HttpRequest, project: Project) -> HttpResponse:
    segments = selectors.segments_counted(
        project=project, segments=list(selectors.segment_list(project=project).filter(model__isnull=True))
    )
    trends = size_trends(project=project, segments=segments)
    models = model_distributions(
        models=SegmentationModel.objects.filter(project=project).prefetch_related("groups").order_by("name")
    )
    context = {
        "rows": [(segment, trends[segment.pk]) for segment in segments],
        "models": models,
        "busy": any(s.status in BUSY for s in segments) or any(m.computing for m in models),
        "persons_total": persons_total(project=project),
        "starters": [
            (key, name, description, pretty(rule)) for key, (name, description, rule) in STARTERS.items()
        ],
    }
    fragment = "table" if htmx_target(request) == "segment-table" else None
    return render_page(request, "segments/list.html", context, project=project, fragment=fragment)


@project_view
@require_GET
def segment_detail(request: HttpRequest, project: Project, segment_id: int) -> HttpResponse:
    """The segment's page; htmx asks for one part of it by its target (status, members, breakdown)."""
    segment = get_segment(project, segment_id)
    target = htmx_target(request)
    context: dict = {"segment": segment, "busy": segment.status in BUSY}
    if target == "segment-status":
        response = render_page(request, "segments/detail.html", context, project=project, fragment="status")
        if not context["busy"] and request.GET.get("poll"):
            # the computation finished: every part of the page changed
            response["HX-Refresh"] = "true"
        return response
    if target in (None, "members"):
        members = (
            selectors.company_member_list(segment=segment).annotate(people=Count("company__persons"))
            if segment.is_company
            else selectors.member_list(segment=segment)
        )
        context["members"] = Paginator(members, MEMBERS_PER_PAGE).get_page(request.GET.get("page"))
    if target in (None, "breakdown"):
        form = BreakdownForm(request.GET)
        context["breakdown_form"] = form
        if form.is_valid() and not form.waiting_for_property:
            context["breakdown"] = member_breakdown(
                segment=segment, dimension=form.cleaned_data["by"], key=form.cleaned_data["property"].strip()
            )
    if target in (None, "members-on"):
        context.update(history_views.members_on_context(request, project, segment))
    if target == "members-on":
        return render_page(request, "segments/detail.html", context, project=project, fragment="members_on")
    if target == "members":
        return render_page(request, "segments/detail.html", context, project=project, fragment="members")
    if target == "breakdown":
        return render_page(request, "segments/detail.html", context, project=project, fragment="breakdown")
    size_range = request.GET.get("range") if request.GET.get("range") in SIZE_RANGES else "all"
    trend = size_trends(project=project, segments=[segment], days=_size_days(segment, size_range, project))[
        segment.pk
    ]
    total = (
        Company.objects.filter(project=project).count()
        if segment.is_company
        else persons_total(project=project)
    )
    selectors.segments_counted(project=project, segments=[segment])
    context.update(history_views.history_status_context(request, project, segment))
    context.update(
        trend=trend,
        size_range=size_range,
        size_ranges=SIZE_RANGES,
        share=segment.counted_size / total if total else 0,
        persons_total=total,
        size_chart=line_chart(
            trend.known_labels,
            [Series("Members", trend.known_sizes)],
            title=f"{segment.name}: members per day",
        )
        if len(trend.known_sizes) > 1
        else None,
        movement_chart=line_chart(
            trend.labels[-30:],
            [Series("Entered", trend.entered[-30:]), Series("Exited", trend.exited[-30:])],
            height=160,
            title=f"{segment.name}: entries and exits per day",
        ),
        description=describe(segment.definition, project)
        if segment.is_dynamic and not segment.is_model_remainder
        else None,
        used_by=[s for s in selectors.segment_list(project=project) if _refers(s, segment)],
        person_keys=discovery.person_property_keys(project=project),
        company_keys=discovery.company_property_keys(project=project),
    )
    return render_page(request, "segments/detail.html", context, project=project)


@project_view
@require_GET
def segment_members_csv(request: HttpRequest, project: Project, segment_id: int) -> StreamingHttpResponse:
    """The members as CSV, streamed: the same file as the API's `members/?format=csv`, for a plain link."""
    return members_export(get_segment(project, segment_id), "csv")


def _size_days(segment: Segment, size_range: str, project: Project) -> int:
    """Days the size chart covers: a fixed window, or from the first snapshot (the reconstructed
    history's first day) on; never under 90, so the week-over-week change keeps its reference."""
    if size_range != "all":
        return int(size_range)
    first = history_first_day(segment=segment)
    if first is None:
        return 90
    return max((timezone.now().astimezone(project.zone).date() - first).days + 1, 90)


def _refers(other: Segment, segment: Segment) -> bool:
    return other.pk != segment.pk and segment.pk in referenced_segments(other.definition)


@project_view
@require_POST
def segment_refresh(request: HttpRequest, project: Project, segment_id: int) -> HttpResponse:
    """Recompute now, over all history."""
    segment = get_segment(project, segment_id)
    if not segment.is_dynamic:
        messages.error(request, "A static segment's members are fixed: there is nothing to recompute.")
    else:
        try:
            change = services.segment_compute(segment=segment)
        except CompileError as error:
            messages.error(request, f"The segment could not be computed: {error}")
        else:
            messages.success(
                request,
                f"Recomputed in {change.elapsed_ms:,} ms: {len(change.entered):,} entered, {len(change.exited):,} exited,"
                f" {change.size:,} members.",
            )
    return redirect("segment_detail", project_id=project.pk, segment_id=segment.pk)


@project_view
@require_http_methods(["GET", "POST"])
def segment_freeze_view(request: HttpRequest, project: Project, segment_id: int) -> HttpResponse:
    """A static copy of today's members."""
    segment = get_segment(project, segment_id)
    form = FreezeForm(
        request.POST or None, initial={"name": f"{segment.name} ({timezone.localdate():%b %-d, %Y})"}
    )
    if request.method == "POST" and form.is_valid():
        frozen = services.segment_freeze(
            segment=segment, name=form.cleaned_data["name"], created_by=request.user
        )
        messages.success(
            request, f"“{frozen.name}” keeps the {frozen.size:,} members “{segment.name}” has today."
        )
        return redirect("segment_detail", project_id=project.pk, segment_id=frozen.pk)
    return render_page(request, "segments/freeze.html", {"segment": segment, "form": form}, project=project)


@project_view
@require_http_methods(["GET", "POST"])
def segment_delete_view(request: HttpRequest, project: Project, segment_id: int) -> HttpResponse:
    segment = get_segment(project, segment_id)
    error = ""
    if segment.model_id:
        error = (
            f"This segment is a group of the model “{segment.model.name}”; it lives and dies with the model."
        )
    elif request.method == "POST":
        try:
            services.segment_delete(segment=segment)
        except ValidationError as problem:
            error = " ".join(m for messages_ in problem.message_dict.values() for m in messages_)
        else:
            messages.success(request, f"Segment “{segment.name}” deleted, with its membership history.")
            return redirect("segments", project_id=project.pk)
    return render_page(request, "segments/delete.html", {"segment": segment, "error": error}, project=project)


@project_view
@require_http_methods(["GET", "POST"])
def segment_upload_view(request: HttpRequest, project: Project) -> HttpResponse:
    """A static segment from a CSV of distinct ids or e-mail addresses."""
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            identifiers = services.parse_identifier_csv(form.cleaned_data["file"].read())
            result = services.segment_upload(
                project=project,
                name=form.cleaned_data["name"],
                identifiers=identifiers,
                created_by=request.user,
            )
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            unmatched = len(result.unmatched)
            messages.success(
                request,
                f"“{result.segment.name}” created: {result.matched:,} people matched, {unmatched:,} not found.",
            )
            if unmatched:
                shown = ", ".join(result.unmatched[:UNMATCHED_SHOWN])
                more = f" and {unmatched - UNMATCHED_SHOWN:,} more" if unmatched > UNMATCHED_SHOWN else ""
                messages.warning(request, f"Not found: {shown}{more}.")
            return redirect("segment_detail", project_id=project.pk, segment_id=result.segment.pk)
    return render_page(request, "segments/upload.html", {"form": form}, project=project)
