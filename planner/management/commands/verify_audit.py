from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from planner.security.audit_chain import format_report, report_json
from planner.services.security import run_audit_verification


class Command(BaseCommand):
    help = (
        "Verify the audit trail: the hash chain, sealed events, tracked rows against their "
        "latest audit event, and that audit triggers are enabled ALWAYS. Exits 1 on problems."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--json", action="store_true", help="print the report as JSON")
        parser.add_argument(
            "--no-log", action="store_true", help="do not write the result to the security log"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        report = run_audit_verification(log=not options["no_log"])
        self.stdout.write(report_json(report) if options["json"] else format_report(report))
        if not report.ok:
            raise CommandError(f"verify_audit found {len(report.problems)} problem(s)")
