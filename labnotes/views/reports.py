"""Reports tab of a run: ask for a report, follow its progress, download its files.

Reports show per-arm results, so the tab lists and builds them only for members who may see the
allocation; everyone else is told so (nothing about arms or counts).
"""

from __future__ import annotations

import io
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods

from labnotes.models import ReportKind, ReportVariant
from labnotes.selectors import blinding_for, list_runs_for_user
from labnotes.selectors_reports import (
    list_reports_for_user,
    list_run_reports_for_user,
    list_study_reports_for_user,
)
from labnotes.services import reports as report_services
from labnotes.services.report_input import (
    DROPOUT_LABELS,
    NOT_YET_FED,
    SYNERGY_LABELS,
    TGI_LABELS,
    ReportOptions,
    data_hash,
    plan_options,
    snapshot_run,
)
from labnotes.views.common import add_service_errors
from planner.selectors import list_studies_for_user, roles_in_lab
from planner.types import AuthenticatedHttpRequest


class ReportRequestForm(forms.Form):
    """A report request. Options left as the plan's give a final (or interim) report; any other
    choice makes it exploratory."""

    kind = forms.ChoiceField(choices=ReportKind.choices, initial=ReportKind.FINAL)
    variant = forms.ChoiceField(
        label="Variant", choices=ReportVariant.choices, initial=ReportVariant.UNBLINDED
    )
    follow_plan = forms.BooleanField(
        label="Follow the approved analysis plan",
        required=False,
        initial=True,
        help_text="Untick to choose the options below: the report is then exploratory.",
    )
    analysis_day = forms.IntegerField(
        label="Analysis day (days since treatment start)",
        required=False,
        min_value=0,
        help_text="Empty: the plan's rule.",
    )
    tgi_definition = forms.ChoiceField(label="TGI definition", choices=list(TGI_LABELS.items()))
    dropout = forms.ChoiceField(label="Dropout policy", choices=list(DROPOUT_LABELS.items()))
    synergy_model = forms.ChoiceField(label="Synergy model", choices=list(SYNERGY_LABELS.items()))

    def options(self) -> ReportOptions | None:
        data = self.cleaned_data
        if data.get("follow_plan"):
            return None
        return ReportOptions(
            analysis_day=data.get("analysis_day"),
            tgi_definition=data["tgi_definition"],
            dropout=data["dropout"],
            synergy_model=data["synergy_model"],
        )


class StudyReportRequestForm(ReportRequestForm):
    """A report pooling runs of a study: which runs, then the same choices as a run report."""

    runs = forms.TypedMultipleChoiceField(
        label="Runs to pool",
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
        help_text="At least two. The run is a stratum of the log-rank test and a random effect "
        "of the mixed model.",
    )

    field_order = ["runs", "kind", "variant", "follow_plan"]

    def __init__(self, *args: Any, run_choices: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        runs_field = self.fields["runs"]
        assert isinstance(runs_field, forms.TypedMultipleChoiceField)
        runs_field.choices = run_choices


@login_required
@require_http_methods(["GET", "POST"])
def study_reports(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """The study's Reports tab: reports pooling several runs, and the request form."""
    study = get_object_or_404(list_studies_for_user(request.user), pk=pk)
    blinding = blinding_for(request.user, study)
    runs = list(list_runs_for_user(request.user).filter(study=study).order_by("day0", "code"))
    context: dict[str, Any] = {"study": study, "blinding": blinding, "runs": runs}
    if not blinding.sees_allocation:
        return render(request, "labnotes/report_study_list.html", context)
    plan = plan_options(study, snapshot_run(runs[0])) if runs else None
    form = StudyReportRequestForm(
        request.POST or None,
        run_choices=[(run.pk, f"{run.code} (day 0 {run.day0:%Y-%m-%d})") for run in runs],
        initial={
            "runs": [run.pk for run in runs],
            **(
                {
                    "tgi_definition": plan.tgi_definition,
                    "dropout": plan.dropout,
                    "synergy_model": plan.synergy_model,
                }
                if plan
                else {}
            ),
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            report, created = report_services.request_study_report(
                study=study,
                run_pks=form.cleaned_data["runs"],
                kind=form.cleaned_data["kind"],
                variant=form.cleaned_data["variant"],
                options=form.options(),
                requested_by=request.user,
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request,
                f"Report #{report.pk} queued: the worker builds it while you carry on."
                if created
                else f"The same report of the same data exists already: report #{report.pk}.",
            )
            return redirect("report_detail", pk=report.pk)
    reports = list(list_study_reports_for_user(request.user, study))
    codes = {run.pk: run.code for run in runs}
    roles = roles_in_lab(request.user, study.lab)
    context.update(
        {
            "form": form,
            "rows": [
                (
                    r,
                    report_services.is_stale(r, report_services.current_report_data_hash(r))
                    if r.status == "succeeded"
                    else False,
                    " + ".join(codes.get(pk, f"#{pk}") for pk in r.pooled_runs),
                )
                for r in reports
            ],
            "may_request": bool(roles & set(report_services.REPORT_REQUESTERS)) and len(runs) > 1,
            "plan_text": (
                f"{TGI_LABELS[plan.tgi_definition]}; dropout: {DROPOUT_LABELS[plan.dropout]}; "
                f"synergy: {SYNERGY_LABELS[plan.synergy_model]}"
                if plan
                else ""
            ),
        }
    )
    return render(request, "labnotes/report_study_list.html", context)


def _run(request: AuthenticatedHttpRequest, pk: int) -> Any:
    return get_object_or_404(list_runs_for_user(request.user), pk=pk)


@login_required
@require_http_methods(["GET", "POST"])
def run_reports(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """The run's reports (newest first, stale and exploratory marked) and the request form."""
    run = _run(request, pk)
    study = run.study
    blinding = blinding_for(request.user, study)
    context: dict[str, Any] = {"run": run, "study": study, "blinding": blinding}
    if not blinding.sees_allocation:
        return render(request, "labnotes/report_list.html", context)
    snapshot = snapshot_run(run)
    plan = plan_options(study, snapshot)
    form = ReportRequestForm(
        request.POST or None,
        initial={
            "tgi_definition": plan.tgi_definition,
            "dropout": plan.dropout,
            "synergy_model": plan.synergy_model,
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            report, created = report_services.request_report(
                run=run,
                kind=form.cleaned_data["kind"],
                variant=form.cleaned_data["variant"],
                options=form.options(),
                requested_by=request.user,
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request,
                f"Report #{report.pk} queued: the worker builds it while you carry on."
                if created
                else f"The same report of the same data exists already: report #{report.pk}.",
            )
            return redirect("report_detail", pk=report.pk)
    current = data_hash(snapshot)
    reports = list(list_run_reports_for_user(request.user, run))
    roles = roles_in_lab(request.user, study.lab)
    context.update(
        {
            "form": form,
            "plan": plan,
            "plan_text": (
                f"{TGI_LABELS[plan.tgi_definition]}; dropout: "
                f"{DROPOUT_LABELS[plan.dropout]}; synergy: {SYNERGY_LABELS[plan.synergy_model]}; "
                "analysis day by the plan's rule"
            ),
            "rows": [(r, report_services.is_stale(r, current)) for r in reports],
            "may_request": bool(roles & set(report_services.REPORT_REQUESTERS)),
            "not_yet_fed": NOT_YET_FED,
        }
    )
    return render(request, "labnotes/report_list.html", context)


@login_required
def report_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """One report: progress while it builds (htmx polling), then its files."""
    report = get_object_or_404(list_reports_for_user(request.user), pk=pk)
    stale = report.status == "succeeded" and report_services.is_stale(
        report, report_services.current_report_data_hash(report)
    )
    artifacts = sorted(
        report.artifacts.select_related("stored_file"),
        key=lambda a: (
            report_services.ARTIFACT_ORDER.index(a.name)
            if a.name in report_services.ARTIFACT_ORDER
            else 99
        ),
    )
    context = {
        "report": report,
        "run": report.run,
        "study": report_services.report_study(report),
        "subject": report_services.report_subject(report),
        "artifacts": artifacts,
        "stale": stale,
    }
    if getattr(request, "htmx", False):
        return render(request, "labnotes/_report_status.html", context)
    return render(request, "labnotes/report_detail.html", context)


@login_required
def report_download(request: AuthenticatedHttpRequest, pk: int, name: str) -> FileResponse:
    """One artifact's bytes, checked against its SHA-256 on the way out."""
    from labnotes.services.files import StoredFileCorrupted, read_file

    report = get_object_or_404(list_reports_for_user(request.user), pk=pk)
    artifact = report.artifacts.select_related("stored_file").filter(name=name).first()
    if artifact is None:
        raise Http404("No such file in this report.")
    try:
        content = read_file(artifact.stored_file)
    except StoredFileCorrupted as error:
        raise Http404(str(error)) from error
    subject = report_services.report_subject(report).replace(" ", "-").replace("+", "")
    filename = f"{subject.replace('--', '-')}-report-{report.pk}-{name}"
    inline = name in ("report.pdf", "report.html")
    response = FileResponse(
        io.BytesIO(content),
        content_type=artifact.content_type,
        as_attachment=not inline,
        filename=filename,
    )
    response["X-Content-SHA256"] = artifact.sha256
    if name == "report.html":
        # The report is self-contained (inline CSS and SVG): it runs no script, loads nothing,
        # and opens sandboxed, so a value printed in it can never act on the application.
        response["Content-Security-Policy"] = (
            "default-src 'none'; style-src 'unsafe-inline'; img-src data:; sandbox"
        )
    return response
