"""The Celery application.

JSON messages and primary keys only; late acknowledgement is opted into per task by tasks
written to be idempotent (``acks_late=True, reject_on_worker_lost=True``).
"""

from __future__ import annotations

import os

from celery import Celery
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("vivolog")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.update(
    task_serializer="json",
    result_serializer="json",
    accept_content=["json"],
    event_serializer="json",
    task_ignore_result=True,
    worker_prefetch_multiplier=1,
    task_acks_late=False,
    task_reject_on_worker_lost=False,
    worker_hijack_root_logger=False,
    broker_connection_retry_on_startup=True,
    beat_schedule={
        "purge-delivered-broker-messages": {
            "task": "planner.tasks.purge_delivered_broker_messages",
            "schedule": crontab(minute="*/15"),
        },
        "verify-audit-trail": {
            "task": "planner.tasks.verify_audit_trail_nightly",
            "schedule": crontab(hour=2, minute=30),
        },
        "sweep-report-jobs": {
            "task": "labnotes.tasks.sweep_report_jobs",
            "schedule": 60.0,
        },
        "send-outbound-messages": {
            "task": "planner.tasks.send_pending_outbound_messages",
            "schedule": 60.0,
        },
    },
)


app.autodiscover_tasks()
