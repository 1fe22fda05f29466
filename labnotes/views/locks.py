"""The run's data lock page: its state, who locked it and why, the two unlock steps, every
lock so far and the changes made after the first one."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from labnotes.models import RunLock
from labnotes.selectors import list_runs_for_user
from labnotes.services import locks as lock_services
from labnotes.views.common import add_service_errors
from planner.models import Role
from planner.selectors import roles_in_lab
from planner.types import AuthenticatedHttpRequest


class LockReasonForm(forms.Form):
    reason = forms.CharField(
        label="Reason",
        max_length=2000,
        help_text="Why (kept in the audit trail and shown on every refused write).",
        widget=forms.Textarea(attrs={"class": "input", "rows": 2}),
    )


@login_required
@require_http_methods(["GET", "POST"])
def run_lock(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    run = list_runs_for_user(request.user).select_related("study__lab").filter(pk=pk).first()
    if run is None:
        raise Http404("No such run")
    roles = roles_in_lab(request.user, run.study.lab)
    lock = lock_services.active_lock(run)
    form = LockReasonForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            if lock is None:
                lock_services.lock_run(
                    run=run, by=request.user, reason=form.cleaned_data["reason"], request=request
                )
                messages.success(request, f"Run {run} is locked.")
            else:
                done = lock_services.release_run_lock(
                    lock=lock, by=request.user, reason=form.cleaned_data["reason"], request=request
                )
                messages.success(
                    request,
                    f"Run {run} is unlocked."
                    if done.released_at
                    else "Your unlock step is recorded; the other person must confirm.",
                )
        except PermissionDenied as error:
            form.add_error(None, str(error))
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            return redirect("run_lock", pk=run.pk)
    if lock is None:
        may_act = Role.STUDY_DIRECTOR in roles
    else:
        may_act = (Role.STUDY_DIRECTOR in roles and lock.director_release_by_id is None) or (
            Role.QA in roles and lock.qa_release_by_id is None
        )
    return render(
        request,
        "labnotes/lock_detail.html",
        {
            "run": run,
            "study": run.study,
            "lock": lock,
            "form": form,
            "may_act": may_act,
            "locks": RunLock.objects.filter(run=run).select_related(
                "director_release_by", "qa_release_by"
            ),
            "changes": lock_services.changes_after_lock(run),
        },
        status=400 if form.errors else 200,
    )
