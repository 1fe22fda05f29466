"""Bad configuration stops start-up with one line naming the variable, not a traceback."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.support.requirements import REPO_ROOT

GOOD = {
    "VIVOLOG_SECRET_KEY": "a-perfectly-long-test-secret-key-0123456789",
    "DATABASE_URL": "postgresql://postgres@127.0.0.1:5432/postgres",
    "CELERY_BROKER_URL": "redis://127.0.0.1:6379/0",
}


def _good_env() -> dict[str, str]:
    """This process's environment without any VIVOLOG_ setting, with GOOD's values."""
    env = {k: v for k, v in os.environ.items() if k not in GOOD and not k.startswith("VIVOLOG_")}
    env.update(GOOD)
    return env


def _manage(env_changes: dict[str, str | None], *args: str) -> subprocess.CompletedProcess[str]:
    env = _good_env()
    for key, value in env_changes.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return subprocess.run(
        [sys.executable, "manage.py", *(args or ("check",))],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(
    ("changes", "variable"),
    [
        ({"VIVOLOG_SECRET_KEY": None}, "VIVOLOG_SECRET_KEY"),
        ({"VIVOLOG_SECRET_KEY": "short"}, "VIVOLOG_SECRET_KEY"),
        ({"DATABASE_URL": None}, "DATABASE_URL"),
        ({"DATABASE_URL": "mysql://root@localhost/x"}, "DATABASE_URL"),
        ({"DATABASE_URL": "postgresql://localhost:5432/"}, "DATABASE_URL"),
        ({"VIVOLOG_DEBUG": "maybe"}, "VIVOLOG_DEBUG"),
        ({"CELERY_BROKER_URL": "kafka://x"}, "CELERY_BROKER_URL"),
        ({"VIVOLOG_TASK_TIME_LIMIT": "ten"}, "VIVOLOG_TASK_TIME_LIMIT"),
        (
            {"VIVOLOG_TASK_SOFT_TIME_LIMIT": "700", "VIVOLOG_TASK_TIME_LIMIT": "600"},
            "VIVOLOG_TASK_TIME_LIMIT",
        ),
    ],
)
def test_start_up_stops_with_one_line_naming_variable_when_value_bad(changes, variable):
    result = _manage(changes)
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert variable in lines[0]
    assert "Traceback" not in result.stderr


def test_unreachable_database_gives_one_clear_line_when_started():
    result = _manage(
        {"DATABASE_URL": "postgresql://postgres@127.0.0.1:1/vivolog"}, "migrate", "--check"
    )
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "cannot reach the database 'vivolog' at 127.0.0.1:1" in lines[0]
    assert "DATABASE_URL" in lines[0]


def test_valid_configuration_passes_checks_when_everything_set():
    result = _manage({})
    assert result.returncode == 0, result.stderr


def test_wsgi_start_up_imports_every_view_before_the_first_request() -> None:
    """A gunicorn worker imports the URLconf (every view, the device API included) when it
    loads ``config.wsgi``, so its first request is not the one that pays for it."""
    probe = (
        "import sys, config.wsgi; "
        "print(all(m in sys.modules for m in ('config.urls', 'labnotes.api.ingest', "
        "'planner.views')))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=REPO_ROOT,
        env=_good_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "True"
