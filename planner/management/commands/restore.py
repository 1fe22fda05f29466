from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from planner.security.audit_chain import format_report
from planner.security.backup import BackupError, restore_backup


class Command(BaseCommand):
    help = (
        "Restore a backup into the EMPTY database named by DATABASE_URL (run as the owner "
        "role) and an empty MEDIA_ROOT; then compare row counts and the audit chain head with "
        "the manifest, run verify_audit, and grant the runtime role its rights."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--input", required=True, type=Path, help="a backup directory")
        parser.add_argument(
            "--no-provision",
            action="store_true",
            help="do not create/grant the runtime database role afterwards",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            outcome = restore_backup(options["input"])
        except BackupError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(format_report(outcome["audit"]))
        if outcome["problems"]:
            for problem in outcome["problems"]:
                self.stderr.write(f"  - {problem}")
            raise CommandError(f"restore finished with {len(outcome['problems'])} problem(s)")
        if not options["no_provision"]:
            from planner.security.database_roles import (
                provision_runtime_role,
                runtime_role_from_environment,
            )

            role = runtime_role_from_environment(os.environ["DATABASE_URL"])
            provision_runtime_role(role)
            self.stdout.write(f"runtime role {role.name} granted its rights")
        self.stdout.write(
            f"restore OK: {outcome['tables']} tables with the backup's row counts, "
            "audit chain intact"
        )
