from __future__ import annotations

import json
import os
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from planner.security.database_roles import (
    ensure_broker_tables,
    provision_runtime_role,
    runtime_role_from_environment,
)


class Command(BaseCommand):
    help = (
        "Create or update the runtime database role (no ownership; INSERT/SELECT only on audit "
        "tables), install the audit hash chain and set audit triggers ENABLE ALWAYS. Run as the "
        "owner role after every migrate."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--print-url",
            action="store_true",
            help="print only the runtime role's DATABASE_URL (for launchers)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        role = runtime_role_from_environment(os.environ["DATABASE_URL"])
        broker = ensure_broker_tables(settings.CELERY_BROKER_URL)
        summary = provision_runtime_role(role)
        summary["broker_tables"] = broker
        if options["print_url"]:
            self.stdout.write(role.url)
            return
        self.stdout.write(json.dumps(summary, indent=2))
