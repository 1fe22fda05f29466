from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from planner.security.backup import BackupError, create_backup


class Command(BaseCommand):
    help = (
        "Back up the database (pg_dump, custom format) and MEDIA_ROOT into a new directory, "
        "with a manifest of SHA-256 checksums, versions and row counts per table."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--output", required=True, type=Path, help="a new or empty directory")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            manifest = create_backup(options["output"])
        except BackupError as error:
            raise CommandError(str(error)) from None
        chain = manifest["audit_chain"] or {}
        self.stdout.write(
            f"backup written to {options['output']}: {len(manifest['tables'])} tables, "
            f"{sum(manifest['tables'].values())} rows, {manifest['media_files']} media files; "
            f"audit chain head #{chain.get('head_seq', 0)} {chain.get('head_hash', '-')}"
        )
