"""QA pages: a run's deviation log and one deviation (assessment, closure), QA inspections and
audit-trail reviews, a study's archive, and an ethics protocol's usage (with its CSV export).

Every object is reached through a scoped selector first. A reader who does not see dosing (a
blinded technician) never sees the entries raised from dose deviations: their text names routes
and amounts that can reveal the allocation.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q, QuerySet
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from labnotes.models import (
    Animal,
    Deviation,
    DeviationCategory,
    DeviationSource,
    FindingSeverity,
    InspectionPhase,
    QAInspection,
    StudyArchive,
)
from labnotes.selectors import blinding_for, list_animals_for_user, list_runs_for_user
from labnotes.selectors_ethics import ethics_usage_counts
from labnotes.services import archive as archive_services
from labnotes.services import deviations as deviation_services
from labnotes.services import inspections as inspection_services
from labnotes.services.common import StaleWrite
from labnotes.services.files import read_file
from labnotes.views.common import add_service_errors
from planner.models import Membership
from planner.selectors import list_ethics_protocols_for_user, list_studies_for_user
from planner.services.ethics_usage import ethics_usage, usage_csv
from planner.types import AuthenticatedHttpRequest


def _input(**attrs: Any) -> dict[str, Any]:
    return {"class": "input", **attrs}


def _role(user: Any, lab: Any) -> str | None:
    membership = Membership.objects.filter(user=user, lab=lab).first()
    return membership.role if membership else None


def _visible_deviations(user: Any, run: Any) -> QuerySet[Deviation]:
    rows = Deviation.objects.filter(run=run).select_related("detected_by", "assessed_by")
    if not blinding_for(user, run.study).sees_dosing:
        rows = rows.exclude(source=DeviationSource.DOSE)
    return rows.prefetch_related("animal_links__animal").order_by("-number")


# -- forms -------------------------------------------------------------------------------------


class DeviationForm(forms.Form):
    category = forms.ChoiceField(choices=DeviationCategory.choices, widget=forms.Select(_input()))
    description = forms.CharField(
        label="What happened", widget=forms.Textarea(_input(rows=3)), max_length=4000
    )
    occurred_on = forms.DateField(
        label="When it happened", widget=forms.DateInput(_input(type="date"))
    )
    animals: forms.ModelMultipleChoiceField[Animal] = forms.ModelMultipleChoiceField(
        queryset=Animal.objects.none(),
        required=False,
        label="Animals concerned",
        help_text="Hold Ctrl (or Cmd) to choose several; none for a cage- or room-wide event.",
        widget=forms.SelectMultiple(_input(size=6)),
    )


class AssessmentForm(forms.Form):
    impact_assessment = forms.CharField(
        label="Impact on the study", widget=forms.Textarea(_input(rows=3))
    )
    corrective_action = forms.CharField(
        label="Corrective action", required=False, widget=forms.Textarea(_input(rows=2))
    )
    reason = forms.CharField(
        label="Reason for the change",
        required=False,
        help_text="Needed when changing an earlier assessment.",
        widget=forms.TextInput(_input()),
    )
    version = forms.IntegerField(widget=forms.HiddenInput)


class CloseForm(forms.Form):
    corrective_action = forms.CharField(
        label="Corrective action taken", required=False, widget=forms.Textarea(_input(rows=2))
    )
    version = forms.IntegerField(widget=forms.HiddenInput)


class InspectionForm(forms.Form):
    inspected_on = forms.DateField(
        label="Inspected on", widget=forms.DateInput(_input(type="date"))
    )
    phase = forms.ChoiceField(
        label="Phase inspected", choices=InspectionPhase.choices, widget=forms.Select(_input())
    )
    scope = forms.CharField(
        label="What was inspected", required=False, widget=forms.Textarea(_input(rows=2))
    )
    finding_severity = forms.ChoiceField(
        label="First finding: severity",
        choices=[("", "No findings"), *FindingSeverity.choices],
        required=False,
        widget=forms.Select(_input()),
    )
    finding_text = forms.CharField(
        label="First finding",
        required=False,
        help_text="More findings can be added on the inspection's page.",
        widget=forms.Textarea(_input(rows=2)),
    )


class FindingForm(forms.Form):
    severity = forms.ChoiceField(choices=FindingSeverity.choices, widget=forms.Select(_input()))
    text = forms.CharField(label="Finding", widget=forms.Textarea(_input(rows=2)))


class ResponseForm(forms.Form):
    finding = forms.IntegerField(widget=forms.HiddenInput)
    response = forms.CharField(label="Response", widget=forms.Textarea(_input(rows=2)))
    reason = forms.CharField(
        label="Reason for the change",
        required=False,
        help_text="Needed when changing an earlier response.",
        widget=forms.TextInput(_input()),
    )


class ReportingForm(forms.Form):
    to_director_on = forms.DateField(
        label="Reported to the study director on",
        required=False,
        widget=forms.DateInput(_input(type="date")),
    )
    to_management_on = forms.DateField(
        label="Reported to management on",
        required=False,
        widget=forms.DateInput(_input(type="date")),
    )
    reason = forms.CharField(
        label="Reason for the change",
        required=False,
        help_text="Needed when changing a date already recorded.",
        widget=forms.TextInput(_input()),
    )


class ReviewForm(forms.Form):
    period_start = forms.DateField(label="Period from", widget=forms.DateInput(_input(type="date")))
    period_end = forms.DateField(label="Period to", widget=forms.DateInput(_input(type="date")))
    conclusion = forms.CharField(
        label="Conclusion", widget=forms.Textarea(_input(rows=2)), max_length=4000
    )


class ArchiveForm(forms.Form):
    reason = forms.CharField(
        label="Why archive the study now",
        widget=forms.Textarea(_input(rows=2)),
        help_text="Archiving makes every record of the study read-only for good.",
    )


# -- deviations --------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def run_deviations(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """The run's deviation log; a form to report one; a button to raise the capture flags."""
    run = get_object_or_404(list_runs_for_user(request.user), pk=pk)
    form = DeviationForm(request.POST if request.POST.get("action") == "record" else None)
    animal_field = form.fields["animals"]
    assert isinstance(animal_field, forms.ModelMultipleChoiceField)
    animal_field.queryset = list_animals_for_user(request.user).filter(run=run).order_by("tag")
    animal_field.label_from_instance = lambda obj: f"Animal {obj.tag}"  # type: ignore[method-assign]
    if request.method == "POST":
        try:
            if request.POST.get("action") == "raise":
                result = deviation_services.raise_deviations_from_flags(
                    run=run, raised_by=request.user
                )
                messages.success(
                    request,
                    f"{len(result.created)} new deviation(s) raised from capture flags; "
                    f"{result.already_logged} already in the log.",
                )
                return redirect("run_deviations", pk=run.pk)
            if form.is_valid():
                data = form.cleaned_data
                deviation = deviation_services.record_deviation(
                    run=run,
                    category=data["category"],
                    description=data["description"],
                    occurred_on=data["occurred_on"],
                    animals=list(data["animals"]),
                    detected_by=request.user,
                    recorded_by=request.user,
                )
                messages.success(request, f"{deviation.code} recorded.")
                return redirect("deviation_detail", pk=deviation.pk)
        except PermissionDenied as error:
            messages.error(request, str(error))
        except ValidationError as error:
            add_service_errors(form, error)
    elif not form.is_bound:
        form.initial = {"occurred_on": timezone.localdate()}
    return render(
        request,
        "labnotes/deviation_list.html",
        {
            "run": run,
            "form": form,
            "deviations": list(_visible_deviations(request.user, run)),
            "role": _role(request.user, run.study.lab),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def deviation_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    deviation = get_object_or_404(
        Deviation.objects.filter(run__in=list_runs_for_user(request.user)).select_related(
            "run__study__lab", "detected_by", "assessed_by", "closed_by", "recorded_by"
        ),
        pk=pk,
    )
    run = deviation.run
    if (
        deviation.source == DeviationSource.DOSE
        and not blinding_for(request.user, run.study).sees_dosing
    ):
        raise Http404
    action = request.POST.get("action")
    assess = AssessmentForm(
        request.POST if action == "assess" else None,
        initial={
            "impact_assessment": deviation.impact_assessment,
            "corrective_action": deviation.corrective_action,
            "version": deviation.row_version,
        },
    )
    close = CloseForm(
        request.POST if action == "close" else None,
        initial={
            "corrective_action": deviation.corrective_action,
            "version": deviation.row_version,
        },
    )
    if request.method == "POST":
        try:
            if action == "assess" and assess.is_valid():
                data = assess.cleaned_data
                deviation_services.assess_deviation(
                    deviation=deviation,
                    impact_assessment=data["impact_assessment"],
                    corrective_action=data["corrective_action"],
                    assessed_by=request.user,
                    expected_version=data["version"],
                    reason=data["reason"],
                )
                messages.success(request, f"{deviation.code} assessed.")
                return redirect("deviation_detail", pk=deviation.pk)
            if action == "close" and close.is_valid():
                deviation_services.close_deviation(
                    deviation=deviation,
                    closed_by=request.user,
                    corrective_action=close.cleaned_data["corrective_action"],
                    expected_version=close.cleaned_data["version"],
                )
                messages.success(request, f"{deviation.code} closed.")
                return redirect("deviation_detail", pk=deviation.pk)
        except PermissionDenied as error:
            messages.error(request, str(error))
        except StaleWrite:
            messages.error(
                request, "Someone changed this deviation after you opened it: reload and retry."
            )
        except ValidationError as error:
            add_service_errors(assess if action == "assess" else close, error)
    return render(
        request,
        "labnotes/deviation_detail.html",
        {
            "run": run,
            "deviation": deviation,
            "animals": [link.animal for link in deviation.animal_links.select_related("animal")],
            "assess_form": assess,
            "close_form": close,
            "role": _role(request.user, run.study.lab),
        },
    )


# -- inspections and audit-trail reviews -------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def run_inspections(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """QA inspections of the run's study (study-wide and of this run), audit-trail reviews of
    the run, and QA's forms to record both."""
    run = get_object_or_404(list_runs_for_user(request.user), pk=pk)
    action = request.POST.get("action")
    form = InspectionForm(request.POST if action == "inspect" else None)
    review = ReviewForm(request.POST if action == "review" else None)
    if request.method == "POST":
        try:
            if action == "inspect" and form.is_valid():
                data = form.cleaned_data
                findings = (
                    [
                        inspection_services.FindingInput(
                            data["finding_severity"], data["finding_text"]
                        )
                    ]
                    if data["finding_severity"] or data["finding_text"].strip()
                    else []
                )
                inspection = inspection_services.record_inspection(
                    study=run.study,
                    run=run,
                    inspected_on=data["inspected_on"],
                    phase=data["phase"],
                    scope=data["scope"],
                    inspector=request.user,
                    recorded_by=request.user,
                    findings=findings,
                )
                messages.success(request, "Inspection recorded.")
                return redirect("inspection_detail", pk=inspection.pk)
            if action == "review" and review.is_valid():
                data = review.cleaned_data
                done = inspection_services.mark_audit_trail_reviewed(
                    run=run,
                    period_start=data["period_start"],
                    period_end=data["period_end"],
                    conclusion=data["conclusion"],
                    reviewer=request.user,
                )
                messages.success(
                    request,
                    f"Audit trail review recorded ({done.events_reviewed} events in the period).",
                )
                return redirect("run_inspections", pk=run.pk)
        except PermissionDenied as error:
            messages.error(request, str(error))
        except ValidationError as error:
            add_service_errors(form if action == "inspect" else review, error)
    elif not form.is_bound:
        today = timezone.localdate()
        form.initial = {"inspected_on": today}
        review.initial = {"period_start": run.day0, "period_end": today}
    inspections = (
        QAInspection.objects.filter(study=run.study)
        .filter(Q(run__isnull=True) | Q(run=run))
        .select_related("inspector", "run")
        .order_by("-inspected_on", "-pk")
    )
    return render(
        request,
        "labnotes/inspection_list.html",
        {
            "run": run,
            "form": form,
            "review_form": review,
            "inspections": list(inspections),
            "reviews": list(run.audit_trail_reviews.select_related("reviewer")),
            "statement": inspection_services.qa_statement_lines(run),
            "role": _role(request.user, run.study.lab),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def inspection_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    inspection = get_object_or_404(
        QAInspection.objects.filter(study__in=list_studies_for_user(request.user)).select_related(
            "study__lab", "run", "inspector", "closed_by"
        ),
        pk=pk,
    )
    run = inspection.run or inspection.study.runs.order_by("day0").first()
    action = request.POST.get("action")
    finding_form = FindingForm(request.POST if action == "finding" else None)
    response_form = ResponseForm(request.POST if action == "respond" else None)
    reporting = ReportingForm(
        request.POST if action == "report" else None,
        initial={
            "to_director_on": inspection.reported_to_director_on,
            "to_management_on": inspection.reported_to_management_on,
        },
    )
    if request.method == "POST":
        try:
            if action == "finding" and finding_form.is_valid():
                inspection_services.add_finding(
                    inspection=inspection,
                    severity=finding_form.cleaned_data["severity"],
                    text=finding_form.cleaned_data["text"],
                    added_by=request.user,
                )
                messages.success(request, "Finding added.")
                return redirect("inspection_detail", pk=inspection.pk)
            if action == "respond" and response_form.is_valid():
                finding = get_object_or_404(
                    inspection.findings, pk=response_form.cleaned_data["finding"]
                )
                inspection_services.respond_to_finding(
                    finding=finding,
                    response=response_form.cleaned_data["response"],
                    responded_by=request.user,
                    reason=response_form.cleaned_data["reason"],
                )
                messages.success(request, f"Response to finding {finding.number} saved.")
                return redirect("inspection_detail", pk=inspection.pk)
            if action == "report" and reporting.is_valid():
                inspection_services.report_inspection(
                    inspection=inspection,
                    reported_by=request.user,
                    to_director_on=reporting.cleaned_data["to_director_on"],
                    to_management_on=reporting.cleaned_data["to_management_on"],
                    reason=reporting.cleaned_data["reason"],
                )
                messages.success(request, "Reporting dates saved.")
                return redirect("inspection_detail", pk=inspection.pk)
            if action == "close":
                inspection_services.close_inspection(inspection=inspection, closed_by=request.user)
                messages.success(request, "Inspection closed.")
                return redirect("inspection_detail", pk=inspection.pk)
        except PermissionDenied as error:
            messages.error(request, str(error))
        except ValidationError as error:
            target = {"finding": finding_form, "respond": response_form}.get(action or "")
            if target is None:
                target = reporting
            if action == "close":
                messages.error(request, " ".join(error.messages))
            else:
                add_service_errors(target, error)
    return render(
        request,
        "labnotes/inspection_detail.html",
        {
            "inspection": inspection,
            "run": run,
            "findings": list(inspection.findings.select_related("responded_by")),
            "finding_form": finding_form,
            "response_form": response_form,
            "reporting_form": reporting,
            "role": _role(request.user, inspection.study.lab),
        },
    )


# -- archive -----------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def study_archive(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    study = get_object_or_404(list_studies_for_user(request.user).select_related("lab"), pk=pk)
    form = ArchiveForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            archive_services.request_archive(
                study=study, requested_by=request.user, reason=form.cleaned_data["reason"]
            )
            messages.success(request, f"Study {study.code} archived; its package is being built.")
            return redirect("study_archive", pk=study.pk)
        except PermissionDenied as error:
            messages.error(request, str(error))
        except ValidationError as error:
            add_service_errors(form, error)
    role = _role(request.user, study.lab)
    return render(
        request,
        "labnotes/archive_detail.html",
        {
            "study": study,
            "form": form,
            "archives": list(study.archives.select_related("package", "requested_by", "job")),
            "may_archive": role in archive_services.ARCHIVERS,
            "may_download": _may_download(request.user, study),
        },
    )


def _may_download(user: Any, study: Any) -> bool:
    """The package holds the allocation: readers with the role who also see the allocation."""
    return (
        _role(user, study.lab) in archive_services.READERS
        and blinding_for(user, study).sees_allocation
    )


@login_required
@require_GET
def archive_download(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    archive = get_object_or_404(
        StudyArchive.objects.filter(study__in=list_studies_for_user(request.user)).select_related(
            "study__lab", "package"
        ),
        pk=pk,
    )
    if archive.package is None:
        raise Http404
    if not _may_download(request.user, archive.study):
        raise PermissionDenied("Only unblinded study directors, QA and lab admins may download.")
    response = HttpResponse(read_file(archive.package), content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="{archive.package.original_filename}"'
    response["Cache-Control"] = "private, no-store"
    return response


# -- ethics usage ------------------------------------------------------------------------------


def _usage(request: AuthenticatedHttpRequest, pk: int) -> Any:
    protocol = get_object_or_404(list_ethics_protocols_for_user(request.user), pk=pk)
    today = protocol.lab.local_date(timezone.now())
    return ethics_usage(protocol=protocol, counts=ethics_usage_counts(protocol), today=today)


@login_required
@require_GET
def ethics_usage_page(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    usage = _usage(request, pk)
    return render(request, "planner/ethics_usage.html", {"usage": usage})


@login_required
@require_GET
def ethics_usage_export(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    usage = _usage(request, pk)
    response = HttpResponse(usage_csv(usage), content_type="text/csv; charset=utf-8")
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in usage.protocol.number)
    response["Content-Disposition"] = f'attachment; filename="ethics-usage-{safe}.csv"'
    return response
