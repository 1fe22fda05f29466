"""backup → restore into a fresh database → verify_audit clean, counts equal, chain intact."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from planner.security.backup import MANIFEST_FILE, table_counts
from planner.services import tenancy
from tests.factories import MembershipFactory, StudyFactory, UserFactory
from tests.security.conftest import current_database_url

# A restore provisions the cluster-wide runtime role: under pytest-xdist these tests share the
# worker of the other runtime-role tests (two GRANTs on one role at once fail).
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.xdist_group("runtime_role")]
REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def media_root(tmp_path: Path, settings: Any) -> Path:
    root = tmp_path / "media"
    (root / "attachments").mkdir(parents=True)
    (root / "attachments" / "plate-01.csv").write_text("well,od\nA1,0.123\n")
    settings.MEDIA_ROOT = root
    return root


@pytest.fixture
def fresh_database() -> Iterator[str]:
    """An empty database beside the test database; dropped afterwards."""
    name = f"{connection.settings_dict['NAME']}_restore_{os.getpid()}"
    url = current_database_url()
    admin_url = url.replace(f"/{connection.settings_dict['NAME']}", "/postgres", 1)
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield url.replace(f"/{connection.settings_dict['NAME']}", f"/{name}", 1)
    finally:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _lab_data() -> None:
    lab = tenancy.create_lab(name="Backup lab", slug="backup")
    director = UserFactory()
    MembershipFactory(user=director, lab=lab, role="study_director")
    for _ in range(3):
        StudyFactory(lab=lab, created_by=director)
    tenancy.add_member(lab=lab, user=director, role="qa", reason="took over QA")
    tenancy.create_personal_token(user=director, name="plate reader script")


def _manage(*args: str, database_url: str, media: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": database_url, "VIVOLOG_MEDIA_ROOT": str(media)}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_restore_into_a_fresh_database_finds_every_row_and_the_chain_intact(
    media_root: Path, fresh_database: str, tmp_path: Path
) -> None:
    _lab_data()
    backup = tmp_path / "backup"
    call_command("backup", "--output", str(backup))
    manifest = json.loads((backup / MANIFEST_FILE).read_text())
    assert manifest["tables"]["planner_study"] == 3
    assert manifest["audit_chain"]["links"] > 0
    assert manifest["media_files"] == 1
    assert set(manifest["files"]) == {"database.dump", "media.tar.gz"}

    restored_media = tmp_path / "restored-media"
    result = _manage(
        "restore", "--input", str(backup), database_url=fresh_database, media=restored_media
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "verify_audit: OK" in result.stdout
    assert "restore OK" in result.stdout
    assert (restored_media / "attachments" / "plate-01.csv").read_text() == "well,od\nA1,0.123\n"

    with psycopg.connect(fresh_database) as restored, restored.cursor() as cursor:
        restored_counts = table_counts(cursor)
        cursor.execute("SELECT hash FROM planner_auditchainlink ORDER BY seq DESC LIMIT 1")
        head = cursor.fetchone()[0]
    with connection.cursor() as cursor:
        source_counts = table_counts(cursor)
    assert restored_counts == source_counts == manifest["tables"]
    assert head == manifest["audit_chain"]["head_hash"]

    verify = _manage("verify_audit", "--no-log", database_url=fresh_database, media=restored_media)
    assert verify.returncode == 0, verify.stdout + verify.stderr


def test_restore_refuses_a_database_that_is_not_empty(media_root: Path, tmp_path: Path) -> None:
    _lab_data()
    backup = tmp_path / "backup"
    call_command("backup", "--output", str(backup))
    result = _manage(
        "restore",
        "--input",
        str(backup),
        database_url=current_database_url(),
        media=tmp_path / "other-media",
    )
    assert result.returncode != 0
    assert "is not empty" in result.stderr


def test_restore_refuses_a_damaged_backup(
    media_root: Path, fresh_database: str, tmp_path: Path
) -> None:
    _lab_data()
    backup = tmp_path / "backup"
    call_command("backup", "--output", str(backup))
    dump = backup / "database.dump"
    data = bytearray(dump.read_bytes())
    data[len(data) // 2] ^= 0xFF
    dump.write_bytes(bytes(data))
    result = _manage(
        "restore",
        "--input",
        str(backup),
        database_url=fresh_database,
        media=tmp_path / "restored-media",
    )
    assert result.returncode != 0
    assert "does not match its SHA-256" in result.stderr
    with psycopg.connect(fresh_database) as restored:
        tables = restored.execute(
            "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"
        ).fetchone()
    assert tables == (0,)


def test_backup_refuses_a_directory_that_is_not_empty(tmp_path: Path) -> None:
    (tmp_path / "old-backup.txt").write_text("keep me")
    with pytest.raises(CommandError, match="not empty"):
        call_command("backup", "--output", str(tmp_path))
