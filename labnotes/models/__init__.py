"""What happened: runs, animals, records, assays, notes and reports (filled by later issues)."""

from labnotes.models.jobs import BackgroundJob, JobStatus

__all__ = ["BackgroundJob", "JobStatus"]
