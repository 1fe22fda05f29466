"""The demo data set, built in idempotent steps so that a newer demo upgrades an older one.

Each step ensures what it describes exists (creating only what is missing), so running the
loader on a database made by an older version adds exactly what that version lacked. Later
issues append steps; labnotes adds its own through ``labnotes.demo``.
"""

from __future__ import annotations

from collections.abc import Callable

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from planner.audit import ClientKind, audit_context
from planner.models import Lab, Membership, Role, Study, StudyMember
from planner.services import studies as study_services
from planner.services import tenancy

DEMO_VERSION = 1
DEMO_PASSWORD = "vivolog-demo"
DEMO_LAB_SLUG = "demo"

DEMO_USERS: tuple[tuple[str, str, str, str], ...] = (
    ("director", "Dana Director", Role.STUDY_DIRECTOR, "Study director; unblinded."),
    ("scientist", "Sam Scientist", Role.SCIENTIST, "Designs studies."),
    ("tech_measure", "Taylor Measure", Role.TECHNICIAN, "Measures and weighs; blinded."),
    ("tech_dose", "Dee Doser", Role.TECHNICIAN, "Doses (can_dose); blinded to labels."),
    ("qa", "Quinn Assurance", Role.QA, "Quality assurance."),
    ("labadmin", "Alex Admin", Role.LAB_ADMIN, "Lab administrator (staff in the admin)."),
    ("viewer", "Vic Viewer", Role.VIEWER, "Reads only."),
)


def ensure_lab() -> Lab:
    lab = Lab.objects.filter(slug=DEMO_LAB_SLUG).first()
    return lab or tenancy.create_lab(
        name="Demo Oncology Lab", slug=DEMO_LAB_SLUG, time_zone="Europe/Berlin"
    )


def ensure_users(lab: Lab) -> dict[str, AbstractBaseUser]:
    users: dict[str, AbstractBaseUser] = {}
    user_model = get_user_model()
    for username, full_name, role, _note in DEMO_USERS:
        user = user_model.objects.filter(username=username).first()
        if user is None:
            first, last = full_name.split(" ", 1)
            user = user_model.objects.create_user(
                username=username, password=DEMO_PASSWORD, first_name=first, last_name=last,
                email=f"{username}@demo.vivolog.invalid", is_staff=(role == Role.LAB_ADMIN),
            )
        if not Membership.objects.filter(lab=lab, user=user).exists():
            tenancy.add_member(lab=lab, user=user, role=role)
        users[username] = user
    return users


def ensure_ct26_study(lab: Lab, users: dict[str, AbstractBaseUser]) -> Study:
    study = Study.objects.filter(lab=lab, code="CT26-IL12-CPA").first()
    if study is None:
        study = study_services.create_study(
            lab=lab, code="CT26-IL12-CPA",
            title="IL-12 intratumoral plus cyclophosphamide in CT26-bearing BALB/c mice",
            objective="Does IL-12 IT plus cyclophosphamide IP control CT26 growth better than "
            "either alone, and more than their independent effects predict?",
            blinded=True, created_by=users["director"],
        )
    for username, unblinded, can_dose in (
        ("scientist", True, False), ("tech_measure", False, False), ("tech_dose", False, True),
        ("qa", False, False),
    ):
        StudyMember.objects.get_or_create(
            study=study, user=users[username],
            defaults={"unblinded": unblinded, "can_dose": can_dose},
        )
    return study


StepResult = object
STEPS: list[Callable[[], StepResult]] = []


def load_demo() -> dict[str, object]:
    """Ensure every demo step; returns what exists afterwards."""
    with transaction.atomic(), audit_context(client=ClientKind.COMMAND, reason="demo data"):
        lab = ensure_lab()
        users = ensure_users(lab)
        study = ensure_ct26_study(lab, users)
    return {"version": DEMO_VERSION, "lab": lab, "users": users, "study": study}
