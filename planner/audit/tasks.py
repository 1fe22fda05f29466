"""A Celery base task whose writes are attributed to the task (and who asked for it)."""

from __future__ import annotations

from typing import Any

from celery import Task

from planner.audit import ClientKind, audit_context


class AuditedTask(Task):  # type: ignore[misc]
    """Runs the task body inside an audit context naming the task and its id.

    Pass ``requested_by_user_id`` as a keyword argument to attribute writes to the person who
    asked for the work; a ``reason`` keyword is recorded as the reason.
    """

    abstract = True

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        metadata: dict[str, Any] = {
            "client": ClientKind.TASK,
            "task": self.name,
            "task_id": getattr(self.request, "id", None),
        }
        if "requested_by_user_id" in kwargs:
            metadata["user_id"] = kwargs["requested_by_user_id"]
        with audit_context(**metadata):
            return super().__call__(*args, **kwargs)
