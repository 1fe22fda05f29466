"""Smoke test of the embedded mode: `make run` from nothing, a page, a job, a clean stop.

Starts `make run` with no DATABASE_URL or CELERY_BROKER_URL in a throwaway var directory,
waits for the login page, runs one background job to completion on the serverless broker,
sends Ctrl-C (SIGINT) and checks by recorded PID that nothing it started is left running.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PORT = os.environ.get("VIVOLOG_SMOKE_PORT", "8765")


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie is gone for our purposes.
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except (FileNotFoundError, IndexError):
        return False
    return state != "Z"


def main() -> int:
    var = Path(tempfile.mkdtemp(prefix="vivolog-smoke-", dir="/tmp"))
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "CELERY_BROKER_URL"}}
    env.update({"VIVOLOG_VAR_DIR": str(var), "VIVOLOG_PORT": PORT})
    log = (var / "run.log").open("wb")
    started = time.monotonic()
    make = subprocess.Popen(
        ["make", "run"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{PORT}/accounts/login/"
    try:
        while True:
            if make.poll() is not None:
                raise SystemExit(
                    f"smoke: make run exited early ({make.returncode}):\n"
                    + (var / "run.log").read_text()
                )
            if time.monotonic() - started > 300:
                raise SystemExit("smoke: login page not served within 300 s")
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    if response.status == 200 and b"password" in response.read().lower():
                        break
            except OSError:
                pass
            time.sleep(1)
        print(f"smoke: login page served {time.monotonic() - started:.1f} s after make run")
        with urllib.request.urlopen(f"http://127.0.0.1:{PORT}/healthz", timeout=10) as response:
            health = json.loads(response.read())
        if health.get("status") != "ok":
            raise SystemExit(f"smoke: /healthz is not ok: {health}")
        print(f"smoke: /healthz {health}")
        job = subprocess.run(
            [sys.executable, "-m", "config.launcher", "manage", "run_self_test", "--timeout", "90"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=180,
        )
        print(job.stdout.strip())
        if job.returncode != 0:
            raise SystemExit(f"smoke: background job failed:\n{job.stdout}\n{job.stderr}")
        record = json.loads((var / "run" / "processes.json").read_text())
        pids = [record["launcher"], *record["children"].values()]
        postmaster = var / "postgres" / "postmaster.pid"
        if postmaster.exists():
            pids.append(int(postmaster.read_text().splitlines()[0]))
        print(f"smoke: recorded processes {pids}")
    finally:
        if make.poll() is None:
            os.killpg(make.pid, signal.SIGINT)
        try:
            make.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(make.pid, signal.SIGKILL)
            raise SystemExit("smoke: make run did not stop within 60 s of Ctrl-C") from None
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and any(alive(pid) for pid in pids):
        time.sleep(0.5)
    left = [pid for pid in pids if alive(pid)]
    if left:
        raise SystemExit(f"smoke: processes left running after Ctrl-C: {left}")
    print(
        f"smoke: stopped cleanly, nothing left running ({time.monotonic() - started:.1f} s total)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
