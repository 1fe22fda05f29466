"""The reference bridge client against the real device API (live server, real PostgreSQL).

A balance on a simulated serial line (a pty) feeds the bridge process; readings queued during an
outage are sent once the server is reachable, and a re-send of a request whose answer was lost
stores nothing twice.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from labnotes.bridge.balances import BalanceProtocol
from labnotes.bridge.client import Client, Flusher
from labnotes.bridge.outbox import Outbox
from labnotes.bridge.readings import WeighingSession
from labnotes.models import Measurement
from tests.conftest import REPO_ROOT, wait_for
from tests.labnotes.api.device_support import animals_with_tumours, make_device

pytestmark = pytest.mark.usefixtures("transactional_db")


def _closed_port_url() -> str:
    """A URL nobody listens on: the server is "down"."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def _weights(run: Any) -> list[tuple[str, float]]:
    rows = Measurement.objects.filter(animal__run=run, weight_g__isnull=False).order_by("pk")
    return [(m.animal.tag, float(m.weight_g)) for m in rows.select_related("animal")]


def test_readings_queued_in_an_outage_are_sent_once_when_the_server_is_back(
    design: Any, run: Any, live_server: Any, tmp_path: Path
) -> None:
    animals = animals_with_tumours(design, run, 2)
    device = make_device(design, run, animals)
    outbox = Outbox(tmp_path / "outbox")
    session = WeighingSession(
        outbox, BalanceProtocol.MT_SICS, "/api/v1/device/measurements/", log=lambda m: None
    )
    down = Flusher(outbox, Client(_closed_port_url(), device.secret), log=lambda m: None)
    for line in ["0001", "S S      21.37 g", "0002", "S D      22.00 g", "S S      22.05 g"]:
        session.feed(line)
        down.flush()
    assert len(outbox) == 2, "both stable readings wait; the unstable one was refused"
    assert _weights(run) == []

    up = Flusher(outbox, Client(live_server.url, device.secret), log=lambda m: None)
    assert up.flush() == 2
    assert len(outbox) == 0
    assert _weights(run) == [("0001", 21.37), ("0002", 22.05)]


def test_a_resend_with_the_same_key_stores_nothing_twice(
    design: Any, run: Any, live_server: Any, tmp_path: Path
) -> None:
    animals = animals_with_tumours(design, run, 1)
    device = make_device(design, run, animals)
    outbox = Outbox(tmp_path / "outbox")
    session = WeighingSession(
        outbox, BalanceProtocol.OHAUS, "/api/v1/device/measurements/", log=lambda m: None
    )
    session.feed("0001")
    entry = session.feed("     20.11 g")
    assert entry is not None
    flusher = Flusher(outbox, Client(live_server.url, device.secret), log=lambda m: None)
    assert flusher.flush() == 1
    # The response never reached the bridge (cable pulled): the entry is still on disk after a
    # restart and goes again with the same Idempotency-Key.
    outbox.add(entry)
    assert flusher.flush() == 1
    assert _weights(run) == [("0001", 20.11)]


def test_the_bridge_process_reads_a_balance_on_a_serial_line(
    design: Any, run: Any, live_server: Any, tmp_path: Path
) -> None:
    animals = animals_with_tumours(design, run, 2)
    device = make_device(design, run, animals)
    controller, balance_side = os.openpty()
    environment = {**os.environ, "VIVOLOG_TOKEN": device.secret}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "labnotes.bridge",
            "--url",
            live_server.url,
            "--outbox",
            str(tmp_path / "outbox"),
            "balance",
            "--protocol",
            "mt-sics",
            "--port",
            os.ttyname(balance_side),
        ],
        cwd=REPO_ROOT,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        time.sleep(0.5)  # the bridge opens and configures the port
        os.write(controller, b"0002\r\nS D      23.90 g\r\nS S      23.95 g\r\n")
        wait_for(lambda: _weights(run) == [("0002", 23.95)], timeout=30)
        os.write(controller, b"0001\r\nS S      19.80 g\r\n")
        wait_for(lambda: len(_weights(run)) == 2, timeout=30)
    finally:
        os.close(controller)
        output, _ = process.communicate(timeout=30)
        os.close(balance_side)
    assert _weights(run) == [("0002", 23.95), ("0001", 19.8)]
    assert "REFUSED: unstable reading" in output
