"""What happened: runs, animals, records, randomizations, tasks and background jobs."""

from labnotes.models.animals import (
    Animal,
    AnimalSex,
    AnimalStatus,
    Cage,
    CageAssignment,
    Implantation,
    Tumour,
    TumourRole,
)
from labnotes.models.blinding import Unblinding, UnblindingScope
from labnotes.models.feeds import CalendarFeedToken
from labnotes.models.jobs import BackgroundJob, JobStatus
from labnotes.models.measurements import EntryMethod, Measurement, MeasurementKind
from labnotes.models.randomization import BatchMethod, BatchStatus, RandomizationBatch
from labnotes.models.runs import RunStatus, StudyRun
from labnotes.models.tasks import Task, TaskKind, TaskStatus

__all__ = [
    "Animal",
    "AnimalSex",
    "AnimalStatus",
    "BackgroundJob",
    "BatchMethod",
    "BatchStatus",
    "Cage",
    "CageAssignment",
    "CalendarFeedToken",
    "EntryMethod",
    "Implantation",
    "JobStatus",
    "Measurement",
    "MeasurementKind",
    "RandomizationBatch",
    "RunStatus",
    "StudyRun",
    "Task",
    "TaskKind",
    "TaskStatus",
    "Tumour",
    "TumourRole",
    "Unblinding",
    "UnblindingScope",
]
