from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from labnotes.models import BackgroundJob, JobStatus
from labnotes.services.jobs import request_self_test
from planner.models import Lab, Membership


class Command(BaseCommand):
    help = "Queue a self-test job for a lab and wait until a worker has finished it."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--lab", default="demo", help="Lab slug (default: demo).")
        parser.add_argument("--timeout", type=float, default=60.0, help="Seconds to wait.")

    def handle(self, *args: Any, **options: Any) -> None:
        lab = Lab.objects.filter(slug=options["lab"]).first()
        if lab is None:
            raise CommandError(f"No lab with slug {options['lab']!r}.")
        membership = Membership.objects.filter(lab=lab).select_related("user").first()
        if membership is None:
            raise CommandError(f"Lab {lab} has no members to request the job.")
        job = request_self_test(lab=lab, requested_by=membership.user)
        deadline = time.monotonic() + options["timeout"]
        while time.monotonic() < deadline:
            job = BackgroundJob.objects.get(pk=job.pk)
            if job.status in {JobStatus.SUCCEEDED, JobStatus.FAILED}:
                break
            time.sleep(0.5)
        if job.status != JobStatus.SUCCEEDED:
            raise CommandError(f"self-test job #{job.pk} ended as {job.status} ({job.message})")
        self.stdout.write(f"self-test job #{job.pk} succeeded: {job.result}")
