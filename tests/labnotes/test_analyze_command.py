"""`manage.py analyze` runs the pure engine under the project's settings without a database."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.support.requirements import REPO_ROOT

SURVIVAL_CSV = """animal,group,time_days,event
a1,vehicle,10,1
a2,vehicle,12,1
a3,vehicle,15,0
b1,drug,20,1
b2,drug,25,0
b3,drug,30,1
"""


def _run(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env["VIVOLOG_SECRET_KEY"] = "analyze-command-test-secret-key-0123456789"
    # Port 1 refuses connections: the command must not need the database at all.
    env["DATABASE_URL"] = "postgresql://postgres@127.0.0.1:1/unreachable"
    env["CELERY_BROKER_URL"] = "redis://127.0.0.1:1/0"
    return subprocess.run(
        [sys.executable, "manage.py", "analyze", *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_analyze_prints_same_json_as_module_when_database_unreachable(tmp_path):
    data = tmp_path / "survival.csv"
    data.write_text(SURVIVAL_CSV)
    result = _run(tmp_path, "survival", "--input", str(data))
    assert result.returncode == 0, result.stderr
    via_manage = json.loads(result.stdout)
    module = subprocess.run(
        [sys.executable, "-m", "labnotes.analysis", "survival", "--input", str(data)],
        cwd=REPO_ROOT,
        env={k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert via_manage == json.loads(module.stdout)
    medians = {group["group"]: group["median_days"] for group in via_manage["groups"]}
    assert medians == {"vehicle": 12.0, "drug": 30.0}


def test_analyze_names_row_and_column_when_input_bad(tmp_path):
    data = tmp_path / "bad.csv"
    data.write_text(SURVIVAL_CSV.replace("b2,drug,25,0", "b2,drug,soon,0"))
    result = _run(tmp_path, "survival", "--input", str(data))
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "row 6" in lines[0] and "time_days" in lines[0] and "soon" in lines[0]
