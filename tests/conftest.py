"""Fixtures shared by the whole suite: people and labs, a real Celery worker, a live API client."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

REPO_ROOT = Path(__file__).resolve().parent.parent

# Property tests check properties, not speed: on a busy 2-core machine (CI, a parallel run) data
# generation can pass Hypothesis's "too slow" threshold and per-example deadlines without any
# defect. The examples and their number stay the same.
settings.register_profile("vivolog", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("vivolog")


#: Fixtures that touch cluster-wide state (the runtime database role is one role for every test
#: database): tests using them run on one xdist worker, one after the other.
SERIAL_FIXTURES = {"runtime_role": "runtime_role", "runtime_connection": "runtime_role"}


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Group the tests of ``SERIAL_FIXTURES`` before xdist's ``loadgroup`` reads the groups."""
    for item in items:
        names = set(getattr(item, "fixturenames", ()))
        for fixture, group in SERIAL_FIXTURES.items():
            if fixture in names and item.get_closest_marker("xdist_group") is None:
                item.add_marker(pytest.mark.xdist_group(group))
                break


def pytest_configure(config: pytest.Config) -> None:
    """Django-only set-up; the pure analysis and importer tests also run with ``-p no:django``."""
    if not config.pluginmanager.has_plugin("django"):
        return
    from django.conf import settings

    # Tests render pages without running collectstatic first: serve static names unhashed.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    # Tests log QA, study directors and lab admins in with the password alone; tests/security
    # (and the CSP browser test) switch the TOTP second factor back on where they test it.
    settings.VIVOLOG_OTP_REQUIRED_ROLES = ()
    # Same algorithm as production with a test work factor (see tests/support/hashers.py). The
    # only hasher listed, so checking a password never asks to re-hash it (no extra writes).
    settings.PASSWORD_HASHERS = ["tests.support.hashers.FastPBKDF2PasswordHasher"]


@pytest.fixture
def lab(db: None) -> Any:
    from tests.factories import LabFactory

    return LabFactory()


@pytest.fixture
def other_lab(db: None) -> Any:
    from tests.factories import LabFactory

    return LabFactory()


def _member(lab: Any, role: str) -> Any:
    from tests.factories import MembershipFactory, UserFactory

    user = UserFactory()
    MembershipFactory(user=user, lab=lab, role=role)
    return user


@pytest.fixture
def scientist(lab: Any) -> Any:
    return _member(lab, "scientist")


@pytest.fixture
def technician(lab: Any) -> Any:
    return _member(lab, "technician")


@pytest.fixture
def qa_user(lab: Any) -> Any:
    return _member(lab, "qa")


@pytest.fixture
def outsider(other_lab: Any) -> Any:
    """A scientist of another lab: must never see ``lab``'s objects."""
    return _member(other_lab, "scientist")


@pytest.fixture
def study(lab: Any, scientist: Any) -> Any:
    from tests.factories import StudyFactory

    return StudyFactory(lab=lab, created_by=scientist)


def _database_url_for_current_test_db() -> str:
    from django.db import connection

    settings_dict = connection.settings_dict
    user = settings_dict["USER"] or "postgres"
    password = f":{settings_dict['PASSWORD']}" if settings_dict["PASSWORD"] else ""
    host = settings_dict["HOST"] or ""
    name = settings_dict["NAME"]
    if host.startswith("/"):
        return f"postgresql://{user}{password}@/{name}?host={host}"
    port = f":{settings_dict['PORT']}" if settings_dict["PORT"] else ""
    return f"postgresql://{user}{password}@{host}{port}/{name}"


@pytest.fixture
def celery_worker_process(
    transactional_db: None, tmp_path: Path
) -> Iterator[subprocess.Popen[bytes]]:
    """A real Celery worker in its own process on the configured broker, against the test DB.

    It consumes a queue private to this test process (and xdist worker), so parallel runs and
    other workers on the same Redis never take its tasks. Stopped by PID at the end.
    """
    from config.celery import app

    worker_id = os.environ.get("PYTEST_XDIST_WORKER", "main")
    queue = f"vivolog-test-{worker_id}-{os.getpid()}"
    previous_queue = app.conf.task_default_queue
    app.conf.task_default_queue = queue
    env = dict(os.environ)
    env["DATABASE_URL"] = _database_url_for_current_test_db()
    env["CELERY_BROKER_URL"] = str(app.conf.broker_url)
    env["VIVOLOG_CELERY_QUEUE"] = queue
    log = tmp_path / "worker.log"
    with log.open("wb") as log_file:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "--pool",
                "solo",
                "--loglevel",
                "INFO",
                "-Q",
                queue,
                "-n",
                f"{queue}@%h",
                "--without-mingle",
                "--without-gossip",
                "--without-heartbeat",
            ],
            cwd=REPO_ROOT,
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    deadline = time.monotonic() + 60
    try:
        while b"ready." not in log.read_bytes():
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"worker did not start:\n{log.read_text(errors='replace')}")
            time.sleep(0.2)
        process.log_path = log  # type: ignore[attr-defined]
        yield process
    finally:
        app.conf.task_default_queue = previous_queue
        if process.poll() is None:
            os.killpg(process.pid, 15)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, 9)
                process.wait()


def wait_for(predicate: Any, *, timeout: float = 30.0, interval: float = 0.2) -> Any:
    """Poll ``predicate`` until it returns something truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    pytest.fail(f"condition not met within {timeout} s")
