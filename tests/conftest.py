"""Fixtures shared by the whole suite: people and labs, a real Celery worker, a live API client."""

from __future__ import annotations

import fcntl
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


#: In the run's temporary root (shared by its xdist workers, fresh for every run): the lock the
#: workers take in turn, the file naming the template database (written before it is created,
#: so that the controller drops it even when its migration failed) and the flag that says it
#: is migrated.
TEMPLATE_LOCK = "vivolog-test-db.lock"
TEMPLATE_NAME = "vivolog-test-db-template"
TEMPLATE_READY = "vivolog-test-db-template.ready"


def _xdist_worker(config: pytest.Config) -> str | None:
    workerinput: dict[str, Any] | None = getattr(config, "workerinput", None)
    return None if workerinput is None else str(workerinput["workerid"])


@pytest.fixture(scope="session")
def django_db_setup(
    request: pytest.FixtureRequest,
    django_test_environment: None,
    django_db_blocker: Any,
    django_db_use_migrations: bool,
    django_db_keepdb: bool,
    django_db_createdb: bool,
    django_db_modify_db_settings: None,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[None]:
    """pytest-django's test database set-up, with one migration per run under xdist.

    Without xdist, with ``--reuse-db`` or ``--nomigrations`` this is pytest-django's own
    fixture. Under xdist each worker used to migrate its own ``test_<name>_gwN`` from scratch
    (a minute idle, several with two workers and Chromium competing). Instead, the first worker
    to take a lock in the run's temporary root creates and migrates ``test_<name>_template``
    exactly as Django creates a test database (``migrate`` and its ``post_migrate`` handlers,
    i.e. the audit chain triggers; ``createcachetable``), and every worker, the first one
    included, copies it with ``CREATE DATABASE ... TEMPLATE`` under the same lock (PostgreSQL
    refuses a template with another session connected). The template is new for every run (the
    root is) and the controller drops it at the end (``pytest_sessionfinish``), so each run
    still starts from a freshly migrated database.
    """
    from django.db import connections
    from django.test.utils import setup_databases, teardown_databases
    from pytest_django.fixtures import _disable_migrations, _get_databases_for_setup

    verbosity = request.config.option.verbose
    aliases, serialized_aliases = _get_databases_for_setup(request.session.items)
    worker = _xdist_worker(request.config)
    use_template = (
        worker is not None
        and django_db_use_migrations
        and not django_db_keepdb
        and aliases <= {"default"}
        and connections["default"].vendor == "postgresql"
    )
    if not use_template:
        if not django_db_use_migrations:
            _disable_migrations()
        keepdb = {"keepdb": True} if django_db_keepdb and not django_db_createdb else {}
        with django_db_blocker.unblock():
            db_cfg = setup_databases(
                verbosity=verbosity,
                interactive=False,
                aliases=aliases,
                serialized_aliases=serialized_aliases,
                **keepdb,
            )
        yield
        if not django_db_keepdb:
            with django_db_blocker.unblock():
                try:
                    teardown_databases(db_cfg, verbosity=verbosity)
                except Exception as exc:  # as pytest-django: warn, don't fail the run
                    _warn_teardown_failed(request, exc)
        return

    connection = connections["default"]
    old_name = connection.settings_dict["NAME"]
    with django_db_blocker.unblock():
        if aliases:
            root = tmp_path_factory.getbasetemp().parent
            _clone_from_template(connection, root, worker=str(worker), verbosity=verbosity)
            if "default" in serialized_aliases:
                connection._test_serialized_contents = (  # type: ignore[attr-defined]
                    connection.creation.serialize_db_to_string()
                )
    yield
    if aliases:
        with django_db_blocker.unblock():
            try:
                _drop_clone(connection, old_name)
            except Exception as exc:  # as pytest-django: warn, don't fail the run
                _warn_teardown_failed(request, exc)


def _warn_teardown_failed(request: pytest.FixtureRequest, exc: Exception) -> None:
    request.node.warn(
        pytest.PytestWarning(f"Error when trying to teardown test databases: {exc!r}")
    )


def _clone_from_template(connection: Any, root: Path, *, worker: str, verbosity: int) -> None:
    """Make ``connection``'s test database a copy of the run's template (migrated here first
    when no worker has done it yet) and point the connection at it."""
    from django.conf import settings

    creation = connection.creation
    test_name = creation._get_test_db_name()
    template = test_name.removesuffix(f"_{worker}") + "_template"
    ready = root / TEMPLATE_READY
    with (root / TEMPLATE_LOCK).open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file is closed
        if not ready.exists():
            started = time.monotonic()
            (root / TEMPLATE_NAME).write_text(template)
            connection.settings_dict["TEST"]["NAME"] = template
            try:
                # Drops a template left behind by an interrupted run, creates and migrates.
                creation.create_test_db(verbosity, autoclobber=True, serialize=False)
            finally:
                connection.settings_dict["TEST"]["NAME"] = test_name
                connection.close()
            ready.touch()
            if verbosity >= 1:
                print(f"\n{worker}: migrated {template} in {time.monotonic() - started:.0f} s")
        quoted_template = connection.ops.quote_name(template)
        quoted_name = connection.ops.quote_name(test_name)
        with creation._nodb_cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS {quoted_name}")
            cursor.execute(f"CREATE DATABASE {quoted_name} TEMPLATE {quoted_template}")
    connection.close()
    settings.DATABASES[connection.alias]["NAME"] = test_name
    connection.settings_dict["NAME"] = test_name
    connection.ensure_connection()


def _drop_clone(connection: Any, old_name: str) -> None:
    """Drop this worker's test database at the end of its session and point the connection
    back at ``old_name``. ``WITH (FORCE)``: a connection some test thread left open (a live
    server's) made Django's plain DROP fail now and then, leaving the database behind."""
    from django.conf import settings

    name = connection.ops.quote_name(connection.settings_dict["NAME"])
    connection.close()
    with connection.creation._nodb_cursor() as cursor:
        cursor.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    settings.DATABASES[connection.alias]["NAME"] = old_name
    connection.settings_dict["NAME"] = old_name


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """The xdist controller drops the run's template database once every worker is done."""
    config = session.config
    plugins = config.pluginmanager
    if not (plugins.has_plugin("dsession") and plugins.has_plugin("django")):
        return  # not the controller of an xdist run
    named = session.config._tmp_path_factory.getbasetemp() / TEMPLATE_NAME  # type: ignore[attr-defined]
    if not named.exists():
        return
    from django.db import connection
    from pytest_django.plugin import blocking_manager_key

    template = connection.ops.quote_name(named.read_text().strip())
    with config.stash[blocking_manager_key].unblock(), connection.creation._nodb_cursor() as cursor:
        cursor.execute(f"DROP DATABASE IF EXISTS {template} WITH (FORCE)")
    named.unlink()


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
