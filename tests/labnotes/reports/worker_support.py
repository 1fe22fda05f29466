"""Start and kill real Celery workers for the report job tests (several per test).

Like the suite's ``celery_worker_process`` fixture (same command line, a queue private to the
test process), but a test may start a second worker after killing the first.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[3]


@dataclass
class WorkerPool:
    """Workers started by one test on one private queue; all stopped by PID at the end."""

    queue: str
    database_url: str
    broker_url: str
    log_dir: Path
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def start(self, name: str, extra_env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
        env = dict(os.environ)
        env["DATABASE_URL"] = self.database_url
        env["CELERY_BROKER_URL"] = self.broker_url
        env["VIVOLOG_CELERY_QUEUE"] = self.queue
        env.update(extra_env or {})
        log = self.log_dir / f"worker-{name}.log"
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
                    self.queue,
                    "-n",
                    f"{self.queue}-{name}@%h",
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
        process.log_path = log  # type: ignore[attr-defined]
        self.processes.append(process)
        deadline = time.monotonic() + 90
        while b"ready." not in log.read_bytes():
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"worker did not start:\n{log.read_text(errors='replace')}")
            time.sleep(0.2)
        return process

    @staticmethod
    def kill(process: subprocess.Popen[bytes]) -> None:
        """SIGKILL the worker and its children: no cleanup, no acknowledgement, no goodbye."""
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=20)

    def stop_all(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait()

    def logs(self) -> str:
        return "\n".join(
            f"--- {p.log_path.name}\n{p.log_path.read_text(errors='replace')}"  # type: ignore[attr-defined]
            for p in self.processes
        )
