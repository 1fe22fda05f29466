"""The Today page (per person and room) and the personal iCal feed."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from labnotes.documents import render_ical
from labnotes.models import TaskKind, TaskStatus
from labnotes.selectors import (
    list_endpoint_alerts_for_user,
    list_rooms_for_user,
    list_tasks_for_day,
    list_tasks_for_user,
)
from labnotes.selectors_welfare import (
    list_checks_for_day,
    list_open_episodes_for_user,
    next_working_day,
    projected_before_break,
)
from labnotes.services import prints as print_services
from labnotes.services.dosing import DoseTaskNames
from labnotes.services.schedule import complete_task
from planner.selectors import get_current_lab
from planner.types import AuthenticatedHttpRequest

#: How far back and ahead the calendar feed reaches.
FEED_PAST_DAYS = 14
FEED_FUTURE_DAYS = 120


def _day(request: HttpRequest, lab: Any) -> dt.date:
    today = lab.local_date(timezone.now()) if lab else timezone.localdate()
    try:
        return (
            dt.date.fromisoformat(request.GET.get("day", "")) if request.GET.get("day") else today
        )
    except ValueError:
        return today


#: Tasks done in the measurement grid: the Today page links them to the run's grid.
GRID_TASK_KINDS = (TaskKind.MEASURE, TaskKind.WEIGH)


def _grid_url(task: Any) -> str:
    """The run's measurement grid on the task's day, scrolled to the task's animal ("" for a
    task not done in the grid)."""
    if task.kind not in GRID_TASK_KINDS:
        return ""
    url = reverse("run_grid", kwargs={"pk": task.run_id})
    return f"{url}?day={task.task_date.isoformat()}#animal-{task.animal_id}"


@login_required
def today(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Due, done and overdue tasks of the lab-local day for this person (and room), with
    endpoint alerts and links to each run's worksheet."""
    lab = get_current_lab(request)
    day = _day(request, lab)
    room = request.GET.get("room", "")
    tasks = list(list_tasks_for_day(request.user, day=day, room=room or None, person=request.user))
    dosing: dict[int, bool] = {}
    dose_names = DoseTaskNames(request.user)
    rows: list[dict[str, Any]] = []
    for task in tasks:
        study = task.run.study
        if study.pk not in dosing:
            dosing[study.pk] = print_services.may_print_dosers_copy(request.user, study)
        rows.append(
            {
                "task": task,
                "label": print_services.task_label(
                    task, sees_dosing=dosing[study.pk], coded=dose_names.coded(task)
                ),
                "arm": task.animal.arm.code if task.animal.arm_id else "—",  # type: ignore[union-attr]
                "grid_url": _grid_url(task),
            }
        )
    runs: dict[int, dict[str, Any]] = {}
    for task in tasks:
        runs.setdefault(task.run_id, {"run": task.run, "dosers": dosing[task.run.study_id]})
    welfare = _welfare(request, lab, day, room)
    # Times on the page in the lab's zone (episodes, checks).
    with timezone.override(lab.zone if lab is not None else None):
        response = render(
            request,
            "labnotes/today.html",
            {
                "day": day,
                "room": room,
                "rooms": list_rooms_for_user(request.user),
                "overdue": [r for r in rows if r["task"].task_date < day],
                "due": [
                    r
                    for r in rows
                    if r["task"].task_date == day and r["task"].status == TaskStatus.DUE
                ],
                "done": [
                    r
                    for r in rows
                    if r["task"].task_date == day and r["task"].status == TaskStatus.DONE
                ],
                "alerts": list_endpoint_alerts_for_user(request.user),
                "runs": list(runs.values()),
                **welfare,
            },
        )
    return response


def _welfare(
    request: AuthenticatedHttpRequest, lab: Any, day: dt.date, room: str
) -> dict[str, Any]:
    """Open endpoint episodes (with the hours since the first reading at the limit), the day's
    welfare checks, and — on the last working day before a weekend or holiday — the animals
    projected to pass a limit before the next working day."""
    now = timezone.now()
    episodes = []
    for episode in list_open_episodes_for_user(request.user):
        hours = (now - episode.first_reached_at).total_seconds() / 3600
        episodes.append({"episode": episode, "hours": hours, "late": hours > 24})
    projections: list[Any] = []
    following = None
    if lab is not None and day == lab.local_date(now):
        following, breaks = next_working_day(lab, day)
        if breaks:
            projections = projected_before_break(request.user, lab=lab, today=day)
        else:
            following = None
    return {
        "episodes": episodes,
        "checks": list(list_checks_for_day(request.user, day=day, room=room or None)),
        "projections": projections,
        "next_working_day": following,
    }


@login_required
@require_POST
def task_complete(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    task = get_object_or_404(list_tasks_for_user(request.user), pk=pk)
    try:
        complete_task(task=task, completed_by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"{task.get_kind_display()} {task.animal.tag}: done.")
    target = reverse("today")
    query = request.POST.get("next_query", "")
    return redirect(f"{target}?{query}" if query else target)


@login_required
@require_http_methods(["GET", "POST"])
def calendar_feed_settings(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Shows (once, after making it) the personal feed URL; a new one revokes the old."""
    feed_url = None
    if request.method == "POST":
        token = print_services.issue_calendar_feed_token(user=request.user)
        feed_url = request.build_absolute_uri(reverse("calendar_feed", kwargs={"token": token}))
    has_feed = hasattr(request.user, "calendar_feed_token")
    response = render(
        request,
        "labnotes/calendar_feed_settings.html",
        {"feed_url": feed_url, "has_feed": has_feed},
    )
    response["Cache-Control"] = "no-store"
    return response


@require_GET
def calendar_feed(request: HttpRequest, token: str) -> HttpResponse:
    """The person's tasks as iCalendar, opened by the secret token alone (calendar apps cannot
    log in). Exactly the tasks that person may see: no dose tasks for non-dosers."""
    user = print_services.user_for_feed_token(token)
    if user is None:
        raise Http404("No such calendar.")
    now = timezone.now()
    start = (now - dt.timedelta(days=FEED_PAST_DAYS)).date()
    end = (now + dt.timedelta(days=FEED_FUTURE_DAYS)).date()
    tasks = (
        list_tasks_for_user(user)
        # task_date is annotated by list_tasks_for_user; the stubs plugin cannot see it.
        .filter(task_date__gte=start, task_date__lte=end)  # type: ignore[misc]
        .exclude(status=TaskStatus.SKIPPED)
        .order_by("task_date", "animal__tag", "kind")
    )
    host = request.get_host().split(":")[0] or "vivolog"

    def url_for(kind: str, pk: int) -> str:
        return request.build_absolute_uri(reverse("run_detail", kwargs={"pk": pk}))

    entries = print_services.calendar_tasks(user=user, tasks=tasks, host=host, url_for=url_for)
    body = render_ical(entries, calendar_name=f"Vivolog tasks of {user.get_username()}")
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Cache-Control"] = "private, no-store"
    return response
