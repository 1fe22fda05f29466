"""Skips for tests that need something outside the project (R, Chromium, ../shared, pdftotext).

Locally such a test skips and names what is missing and how to install it. Under CI (``CI=true``)
a missing requirement is an error instead: a green CI must mean the cross-checks really ran.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
SHARED_DIR = Path(os.environ.get("VIVOLOG_SHARED_DIR", REPO_ROOT.parent / "shared"))


def _missing(reason: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"required under CI: {reason}", pytrace=False)
    pytest.skip(reason)


def require_shared(relative: str = "") -> Path:
    """Return ``../shared/<relative>``; skip (error under CI) when it is absent."""
    path = SHARED_DIR / relative
    if not path.exists():
        _missing(f"{path} is absent: the shared data sets live beside the checkout in ../shared")
    return path


def require_executable(name: str, install_hint: str) -> str:
    """Return the path of ``name`` on PATH; skip (error under CI) naming the install command."""
    found = shutil.which(name)
    if found is None:
        _missing(f"{name} not found; install it with: {install_hint}")
        raise AssertionError("unreachable")
    return found


def require_r(*packages: str) -> str:
    """Return the Rscript path after checking that each R package loads."""
    import subprocess

    rscript = require_executable(
        "Rscript",
        "sudo apt-get install r-base-core r-cran-survival r-cran-nlme r-cran-clubsandwich",
    )
    for package in packages:
        result = subprocess.run(
            [rscript, "-e", f"suppressMessages(library({package}))"],
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            debian = "r-cran-" + package.lower()
            _missing(
                f"R package {package} is missing; install it with: sudo apt-get install {debian}"
            )
    return rscript


CHROMIUM = os.environ.get("VIVOLOG_CHROMIUM", "/usr/bin/chromium")


def require_chromium() -> str:
    if not Path(CHROMIUM).exists():
        _missing(f"{CHROMIUM} not found; install it with: sudo apt-get install chromium")
    return CHROMIUM
