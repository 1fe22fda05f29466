"""Planner pages. Thin: parse, call one service or selector, render."""

from __future__ import annotations

from typing import cast

from django.apps import apps
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from planner.audit.history import history_for
from planner.audit.search import entries, export_csv, record_type_choices, search_audit_events
from planner.context_processors import AUDIT_ROLES
from planner.filters import StudyFilterSet
from planner.forms import AuditSearchForm, StudyCreateForm, StudyEditForm
from planner.selectors import (
    get_current_lab,
    list_labs_for_user,
    list_studies_for_user,
    roles_in_lab,
)
from planner.services import studies as study_services
from planner.types import AuthenticatedHttpRequest


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Database and broker reachability: 200, or 503 naming what failed."""
    from config.health import check_broker, check_database

    checks = {"database": check_database(), "broker": check_broker()}
    failed = [name for name, result in checks.items() if result != "ok"]
    body: dict[str, object] = {"status": "ok" if not failed else "unavailable", "checks": checks}
    if failed:
        body["failed"] = failed
    return JsonResponse(body, status=503 if failed else 200)


@login_required
def home(request: AuthenticatedHttpRequest) -> HttpResponse:
    studies = list_studies_for_user(request.user).order_by("-created_at")[:10]
    return render(
        request,
        "planner/home.html",
        {"studies": studies, "labs": list_labs_for_user(request.user)},
    )


def components(request: HttpRequest) -> HttpResponse:
    return render(request, "components.html")


@login_required
@require_POST
def switch_lab(request: AuthenticatedHttpRequest) -> HttpResponse:
    lab = get_object_or_404(list_labs_for_user(request.user), pk=request.POST.get("lab"))
    request.session["lab_id"] = lab.pk
    return redirect("home")


@login_required
def study_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    filterset = StudyFilterSet(request.GET, queryset=list_studies_for_user(request.user))
    page = Paginator(filterset.qs.order_by("code"), 50).get_page(request.GET.get("page"))
    template = "planner/_study_rows.html" if request.htmx else "planner/study_list.html"  # type: ignore[attr-defined]
    return render(request, template, {"filter": filterset, "page": page})


@login_required
@require_http_methods(["GET", "POST"])
def study_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    labs = list_labs_for_user(request.user)
    form = StudyCreateForm(
        request.POST or None, labs=labs, initial={"lab": get_current_lab(request)}
    )
    if request.method == "POST" and form.is_valid():
        try:
            study = study_services.create_study(created_by=request.user, **form.cleaned_data)
        except ValidationError as error:
            _add_errors(form, error)
        except PermissionDenied as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, f"Study {study.code} created as a draft.")
            return redirect("study_detail", pk=study.pk)
    return render(request, "planner/study_form.html", {"form": form, "creating": True})


@login_required
@require_http_methods(["GET", "POST"])
def study_edit(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    study = get_object_or_404(list_studies_for_user(request.user), pk=pk)
    form = (
        StudyEditForm(request.POST) if request.method == "POST" else StudyEditForm.for_study(study)
    )
    status = 200
    conflict = None
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        expected = data.pop("row_version")
        reason = data.pop("reason")
        try:
            study_services.update_study(
                study=study,
                changed_by=request.user,
                expected_version=expected,
                reason=reason,
                **data,
            )
        except study_services.StaleWrite as stale:
            conflict = stale.current
            status = 409
            form.add_error(
                None,
                "Someone else saved this study after you opened it. Their values are shown "
                "beside yours; review them and save again.",
            )
            # A bound form's data is the request's QueryDict (django-stubs: Mapping).
            form.data = cast(QueryDict, form.data).copy()
            form.data["row_version"] = str(stale.current.row_version)
        except ValidationError as error:
            _add_errors(form, error)
        except PermissionDenied as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, "Saved.")
            return redirect("study_detail", pk=study.pk)
    return render(
        request,
        "planner/study_form.html",
        {"form": form, "study": study, "conflict": conflict, "creating": False},
        status=status,
    )


@login_required
def object_history(
    request: AuthenticatedHttpRequest, app_label: str, model_name: str, pk: int
) -> HttpResponse:
    """The audit trail of one object the user may see."""
    from planner.scoping import scoped_queryset

    try:
        model = apps.get_model(app_label, model_name)
    except LookupError:
        raise Http404("No such record type.") from None
    queryset = scoped_queryset(model, request.user)
    if queryset is None:
        raise Http404("No history for this record type.")
    instance = get_object_or_404(queryset, pk=pk)
    return render(
        request,
        "planner/object_history.html",
        {
            "object": instance,
            "entries": history_for(instance),
            "model_name": model._meta.verbose_name,
        },
    )


@login_required
def audit_search(request: AuthenticatedHttpRequest) -> HttpResponse:
    lab = get_current_lab(request)
    if lab is None or not roles_in_lab(request.user, lab) & AUDIT_ROLES:
        raise PermissionDenied("The audit search is for QA, lab admins and study directors.")
    form = AuditSearchForm(request.GET or None, record_types=record_type_choices())
    filters = {}
    if form.is_valid():
        filters = {
            "date_from": form.cleaned_data["date_from"],
            "date_to": form.cleaned_data["date_to"],
            "username": form.cleaned_data["username"],
            "record_type": form.cleaned_data["record_type"],
            "study_code": form.cleaned_data["study"],
        }
    events = search_audit_events(lab=lab, **filters)
    if request.GET.get("format") == "csv":
        response = HttpResponse(export_csv(entries(events[:50000])), content_type="text/csv")
        response["Content-Disposition"] = f'attachment; filename="audit-{lab.slug}.csv"'
        return response
    page = Paginator(events, 100).get_page(request.GET.get("page"))
    return render(
        request,
        "planner/audit_search.html",
        {
            "form": form,
            "page": page,
            "rows": entries(page.object_list),
            "lab": lab,
            "query": request.GET.urlencode(),
        },
    )


def _add_errors(form: object, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for field, messages_ in error.message_dict.items():
            target = field if field in form.fields else None  # type: ignore[attr-defined]
            for message in messages_:
                form.add_error(target, message)  # type: ignore[attr-defined]
    else:
        for message in error.messages:
            form.add_error(None, message)  # type: ignore[attr-defined]
