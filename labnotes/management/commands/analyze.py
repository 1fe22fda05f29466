"""``manage.py analyze <analysis> --input FILE.csv [options]``: the analysis command under Django.

A thin forwarder to :func:`labnotes.analysis.cli.main`, so that the command and
``python -m labnotes.analysis`` are one interface with one output. It touches no database and
runs no system checks.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser


class Command(BaseCommand):
    help = "Run an analysis on a CSV file and print one JSON object (no database needed)."
    requires_system_checks: list[str] = []
    requires_migrations_checks = False

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "rest", nargs=argparse.REMAINDER, help="<analysis> --input FILE.csv [options]"
        )

    def run_from_argv(self, argv: list[str]) -> None:
        # Bypass Django's own option parsing: every option belongs to the analysis.
        from labnotes.analysis.cli import main

        sys.exit(main(argv[2:]))

    def handle(self, *args: Any, **options: Any) -> None:
        from labnotes.analysis.cli import main

        code = main(list(options["rest"]), stdout=self.stdout, stderr=self.stderr)
        if code != 0:
            raise CommandError(f"analysis failed with exit code {code}", returncode=code)
