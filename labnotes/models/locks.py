"""Run-level data locks: a study director freezes a run's data (say, before unblinding for the
final analysis); unlocking takes the study director and QA, each with a reason.

The lock itself is enforced by PostgreSQL: ``vivolog_run_lock_*`` triggers (migration
``labnotes.0013``) on every table of a run's data refuse INSERT, UPDATE and DELETE of a row
whose run (found through the row's run, animal, tumour, observation or dose) has an active
lock, whichever path wrote it: pages, API, admin, ``QuerySet.update()``, tasks, raw SQL.
"""

from __future__ import annotations

import pgtrigger
from django.conf import settings
from django.db import models
from django.db.models.functions import Now

from planner.audit import audit_trail

#: SQLSTATE of the trigger's refusal (a custom code in the user-defined class "VL").
LOCKED_SQLSTATE = "VL423"

#: Tables holding a run's data and how their trigger finds the run: (table, via, column).
#: ``via`` is one of run, animal, tumour, observation, dose (see ``vivolog_run_of``).
LOCKED_TABLES: tuple[tuple[str, str, str], ...] = (
    ("labnotes_animal", "run", "run_id"),
    ("labnotes_cage", "run", "run_id"),
    ("labnotes_cageassignment", "animal", "animal_id"),
    ("labnotes_tumour", "animal", "animal_id"),
    ("labnotes_implantation", "tumour", "tumour_id"),
    ("labnotes_measurement", "animal", "animal_id"),
    ("labnotes_pendingaxis", "animal", "animal_id"),
    ("labnotes_doserecord", "run", "run_id"),
    ("labnotes_dosedeviation", "dose", "dose_id"),
    ("labnotes_dosemodification", "run", "run_id"),
    ("labnotes_observation", "animal", "animal_id"),
    ("labnotes_ulcerationscore", "observation", "observation_id"),
    ("labnotes_welfarecheck", "animal", "animal_id"),
    ("labnotes_endpointepisode", "animal", "animal_id"),
    ("labnotes_endpointrecord", "animal", "animal_id"),
    ("labnotes_sample", "animal", "animal_id"),
    ("labnotes_necropsy", "animal", "animal_id"),
    ("labnotes_randomizationbatch", "run", "run_id"),
    ("labnotes_transcriptionsheet", "run", "run_id"),
    ("labnotes_elisaplate", "run", "run_id"),
    ("labnotes_platewell", "plate", "plate_id"),
    ("labnotes_elisaresult", "plate", "plate_id"),
    ("labnotes_flowpanel", "run", "run_id"),
    ("labnotes_flowimport", "panel", "panel_id"),
    ("labnotes_flowacquisition", "panel", "panel_id"),
    ("labnotes_flowpopulationvalue", "acquisition", "acquisition_id"),
)


def _changed(*columns: str) -> pgtrigger.Q:
    """A trigger condition: any of ``columns`` is distinct in NEW from OLD."""
    condition = pgtrigger.Q()
    for column in columns:
        condition |= pgtrigger.Q(**{f"old__{column}__df": pgtrigger.F(f"new__{column}")})
    return condition


@audit_trail()
class RunLock(models.Model):
    """One lock of one run, from ``locked_at`` until both release steps are done.

    The lock is active while ``released_at`` is empty. The study director's and QA's release
    steps may come in either order; the second one sets ``released_at``. The database checks
    that a released lock has both people (two different people), each with a reason, and
    refuses deleting a lock or rewriting who locked it, when and why.
    """

    run = models.ForeignKey("labnotes.StudyRun", on_delete=models.PROTECT, related_name="locks")
    reason = models.TextField()
    locked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="run_locks"
    )
    locked_by_name = models.CharField(max_length=300)
    locked_at = models.DateTimeField(db_default=Now())
    director_release_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    director_release_reason = models.TextField(blank=True)
    director_release_at = models.DateTimeField(null=True, blank=True)
    qa_release_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    qa_release_reason = models.TextField(blank=True)
    qa_release_at = models.DateTimeField(null=True, blank=True)
    released_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["run", "-locked_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["run"],
                condition=models.Q(released_at__isnull=True),
                name="run_lock_one_active_per_run",
            ),
            models.CheckConstraint(
                condition=~models.Q(reason="") & ~models.Q(locked_by_name=""),
                name="run_lock_has_reason_and_name",
            ),
            models.CheckConstraint(
                condition=models.Q(director_release_by__isnull=True)
                | (
                    ~models.Q(director_release_reason="")
                    & models.Q(director_release_at__isnull=False)
                ),
                name="run_lock_director_release_has_why_when",
            ),
            models.CheckConstraint(
                condition=models.Q(qa_release_by__isnull=True)
                | (~models.Q(qa_release_reason="") & models.Q(qa_release_at__isnull=False)),
                name="run_lock_qa_release_has_why_when",
            ),
            models.CheckConstraint(
                condition=models.Q(released_at__isnull=True)
                | models.Q(director_release_by__isnull=False, qa_release_by__isnull=False),
                name="run_lock_release_needs_both",
            ),
            models.CheckConstraint(
                condition=models.Q(director_release_by__isnull=True)
                | models.Q(qa_release_by__isnull=True)
                | ~models.Q(director_release_by=models.F("qa_release_by")),
                name="run_lock_release_two_people",
            ),
        ]
        triggers = [
            pgtrigger.Protect(name="run_lock_never_deleted", operation=pgtrigger.Delete),
            pgtrigger.Protect(
                name="run_lock_history_frozen",
                operation=pgtrigger.Update,
                condition=pgtrigger.Q(old__released_at__isnull=False)
                | _changed("run_id", "reason", "locked_by_id", "locked_by_name", "locked_at")
                | (
                    pgtrigger.Q(old__director_release_by__isnull=False)
                    & _changed("director_release_by_id", "director_release_reason")
                )
                | (
                    pgtrigger.Q(old__qa_release_by__isnull=False)
                    & _changed("qa_release_by_id", "qa_release_reason")
                ),
            ),
        ]

    def __str__(self) -> str:
        state = "released" if self.released_at else "active"
        return f"lock of {self.run} since {self.locked_at:%Y-%m-%d %H:%M} ({state})"

    @property
    def is_active(self) -> bool:
        return self.released_at is None
