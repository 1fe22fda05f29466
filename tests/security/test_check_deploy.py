"""`manage.py check --deploy` is clean with the production environment (README "Security")."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]

PRODUCTION_ENVIRONMENT = {
    "VIVOLOG_SECRET_KEY": "prod-" + "k7Hq2-xZ9pLm4Rt8Wv1Ys6Bn3Cd0Fg5Jh" * 2,
    "VIVOLOG_DEBUG": "0",
    "VIVOLOG_SECURE_COOKIES": "1",
    "VIVOLOG_SSL_REDIRECT": "1",
    "VIVOLOG_BEHIND_TLS_PROXY": "1",
    "VIVOLOG_HSTS_SECONDS": "31536000",
    "VIVOLOG_HSTS_INCLUDE_SUBDOMAINS": "1",
    "VIVOLOG_HSTS_PRELOAD": "1",
    "VIVOLOG_ALLOWED_HOSTS": "vivolog.example.org",
    "VIVOLOG_CSRF_TRUSTED_ORIGINS": "https://vivolog.example.org",
}


def _check_deploy(**overrides: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **PRODUCTION_ENVIRONMENT, **overrides}
    env.pop("VIVOLOG_OTP_REQUIRED_ROLES", None)
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_exits_zero_with_the_production_environment() -> None:
    result = _check_deploy()
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_check_deploy_fails_when_secure_cookies_are_off() -> None:
    result = _check_deploy(VIVOLOG_SECURE_COOKIES="0")
    assert result.returncode != 0
    assert "security.W012" in result.stderr + result.stdout
