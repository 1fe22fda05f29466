"""Lab-record pages. Thin: parse, call one service or selector, render."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from labnotes.scoping import list_jobs_for_user
from labnotes.services import jobs as job_services
from planner.selectors import get_current_lab
from planner.types import AuthenticatedHttpRequest


@login_required
def system(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Background work of the current lab: request a self-test, see recent jobs."""
    lab = get_current_lab(request)
    recent = list_jobs_for_user(request.user).filter(lab=lab)[:20] if lab else []
    return render(request, "labnotes/system.html", {"jobs": recent, "lab": lab})


@login_required
@require_POST
def self_test(request: AuthenticatedHttpRequest) -> HttpResponse:
    lab = get_current_lab(request)
    if lab is None:
        raise PermissionDenied("You are not a member of any lab.")
    job = job_services.request_self_test(lab=lab, requested_by=request.user)
    return redirect("job_detail", pk=job.pk)


@login_required
def outbound_messages(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Who was alerted of what: QA and lab admins see their labs' messages, others their own."""
    from django.core.paginator import Paginator

    from planner.selectors import list_outbound_messages_for_user

    page = Paginator(list_outbound_messages_for_user(request.user), 50).get_page(
        request.GET.get("page")
    )
    return render(request, "labnotes/outbound_messages.html", {"page": page})


@login_required
def job_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    job = get_object_or_404(list_jobs_for_user(request.user), pk=pk)
    template = "labnotes/_job_status.html" if request.htmx else "labnotes/job_detail.html"  # type: ignore[attr-defined]
    return render(request, template, {"job": job})
