"""``python -m labnotes.analysis``: one JSON object out, one-line errors, quick start, no Django."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.requirements import REPO_ROOT, require_shared


def _env() -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key != "DJANGO_SETTINGS_MODULE"}
    env["PYTHONPATH"] = str(REPO_ROOT)
    return env


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "labnotes.analysis", *args],
        cwd=REPO_ROOT,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_survival_prints_one_json_object_when_aml(tmp_path: Path) -> None:
    aml = require_shared("data/reference/survival/aml.csv")
    done = _run(
        "survival", "--input", str(aml), "--control", "Maintained", "--at-risk-days", "0", "100"
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    result = json.loads(done.stdout)
    assert result["control"] == "Maintained"
    groups = {g["group"]: g for g in result["groups"]}
    assert groups["Maintained"]["median_days"] == pytest.approx(217.0)
    assert groups["Maintained"]["median_ci_upper_days"] is None
    assert groups["Nonmaintained"]["hazard_ratio"]["hr"] == pytest.approx(2.4981, rel=1e-4)
    assert groups["Nonmaintained"]["numbers_at_risk"] == [
        {"day": 0.0, "n": 12},
        {"day": 100.0, "n": 7},
    ]
    assert result["logrank"]["df"] == 1
    assert result["pairwise"][0]["p_holm"] == pytest.approx(result["logrank"]["p"])


def test_elisa_prints_fit_when_dnase_with_fixed_bottom() -> None:
    dnase = require_shared("data/reference/elisa/DNase_run1.csv")
    done = _run("elisa", "--input", str(dnase), "--fix-bottom", "0")
    assert done.returncode == 0, done.stderr
    fit = json.loads(done.stdout)["fit"]
    assert fit["model"] == "4pl" and fit["bottom"] == 0.0
    assert fit["top"] == pytest.approx(2.34518, rel=1e-4)
    assert fit["r_squared"] == pytest.approx(0.99911, abs=1e-4)


def test_randomize_prints_allocation_when_seeded(tmp_path: Path) -> None:
    path = tmp_path / "cohort.csv"
    rows = [f"M{i:02d},{80 + 7 * i % 90},{18 + (i % 5) * 0.7:.1f}" for i in range(40)]
    path.write_text("animal,volume_mm3,weight_g\n" + "\n".join(rows) + "\n")
    first = _run("randomize", "--input", str(path), "--groups", "4", "--seed", "11")
    second = _run("randomize", "--input", str(path), "--groups", "4", "--seed", "11")
    assert first.returncode == 0, first.stderr
    result = json.loads(first.stdout)
    assert first.stdout == second.stdout
    assert result["sizes"] == [10, 10, 10, 10]
    assert result["seed"] == 11 and result["bit_generator"] == "PCG64"
    assert sorted(a["animal"] for a in result["allocation"]) == sorted(
        f"M{i:02d}" for i in range(40)
    )
    assert result["balance"]["largest_smd"]["volume_mm3"] < 0.1


def test_bad_cell_exits_2_with_one_line_naming_row_and_column(tmp_path: Path) -> None:
    path = tmp_path / "survival.csv"
    path.write_text("animal,group,time_days,event\nm1,Vehicle,12,1\nm2,Vehicle,abc,0\n")
    done = _run("survival", "--input", str(path))
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr == "error: row 3, column 'time_days': 'abc' is not a number\n"


def test_missing_file_exits_2_with_one_line(tmp_path: Path) -> None:
    done = _run("elisa", "--input", str(tmp_path / "absent.csv"))
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "does not exist" in done.stderr


def test_non_converging_fit_exits_2_with_a_clear_message(tmp_path: Path) -> None:
    path = tmp_path / "flat.csv"
    wells = [f"A{i},standard,{2 ** (i // 2)},0.400,," for i in range(12)]
    path.write_text("well,role,concentration,od,sample,dilution\n" + "\n".join(wells) + "\n")
    done = _run("elisa", "--input", str(path))
    assert done.returncode == 2
    assert done.stderr.startswith("error: column 'od': the 4pl curve fit did not converge")
    assert done.stderr.count("\n") == 1


def test_unknown_option_and_unknown_analysis_exit_2_with_one_line() -> None:
    unknown_option = _run("survival", "--input", "x.csv", "--bogus")
    assert unknown_option.returncode == 2
    assert unknown_option.stderr.strip().endswith("unrecognized arguments: --bogus")
    assert unknown_option.stderr.count("\n") == 1
    unknown = _run("kinetics", "--input", "x.csv")
    assert unknown.returncode == 2 and "invalid choice: 'kinetics'" in unknown.stderr


def test_start_up_lists_the_analyses_without_importing_django() -> None:
    """Fast start-up is kept structurally (no Django behind the command line); its seconds
    are measured by bench/bench_analysis.py, not asserted here."""
    done = _run("--help")
    assert done.returncode == 0 and "survival" in done.stdout
    probe = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, labnotes.analysis.cli as c, labnotes.analysis.survival, "
            "labnotes.analysis.elisa, labnotes.analysis.randomization; "
            "print(any(m == 'django' or m.startswith('django.') for m in sys.modules))",
        ],
        cwd=REPO_ROOT,
        env=_env(),
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert probe.stdout.strip() == "False"


def test_manage_py_analyze_forwards_to_the_same_interface_without_a_database() -> None:
    aml = require_shared("data/reference/survival/aml.csv")
    script = (
        "import django, sys\n"
        "from django.conf import settings\n"
        "settings.configure(INSTALLED_APPS=[], DATABASES={})\n"
        "django.setup()\n"
        "from labnotes.management.commands.analyze import Command\n"
        f"Command().run_from_argv(['manage.py', 'analyze', 'survival', '--input', {str(aml)!r}])\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=REPO_ROOT,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["analysis"] == "survival"
    bad = subprocess.run(
        [sys.executable, "-c", script.replace(str(aml), "/nonexistent.csv")],
        cwd=REPO_ROOT,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert bad.returncode == 2
    assert bad.stderr == "error: input file /nonexistent.csv does not exist\n"
