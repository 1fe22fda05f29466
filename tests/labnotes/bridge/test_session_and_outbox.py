"""The bridge's weighing session, outbox, folder watcher and serial reader, without a server."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

from labnotes.bridge.balances import BalanceProtocol
from labnotes.bridge.outbox import Outbox
from labnotes.bridge.readings import WeighingSession
from labnotes.bridge.sources import open_serial, serial_lines
from labnotes.bridge.watcher import FolderWatcher

FIXED = dt.datetime(2026, 11, 27, 9, 30, tzinfo=dt.UTC)


def session(tmp_path: Path, protocol: BalanceProtocol = BalanceProtocol.MT_SICS) -> WeighingSession:
    return WeighingSession(
        Outbox(tmp_path / "outbox"),
        protocol,
        "/api/v1/device/measurements/",
        instrument="B-1234",
        operator="tech",
        log=lambda message: None,
        clock=lambda: FIXED,
    )


def test_a_stable_weight_after_a_tag_is_queued_for_that_animal(tmp_path: Path) -> None:
    weighing = session(tmp_path)
    assert weighing.feed("0007") is None
    entry = weighing.feed("S S      23.41 g")
    assert entry is not None
    [(path, stored)] = list(weighing.outbox.entries())
    assert stored == entry
    assert json.loads(stored.body) == [
        {
            "animal": "0007",
            "kind": "weight",
            "weight_g": "23.41",
            "unit": "g",
            "taken_at": "2026-11-27T09:30:00+00:00",
            "instrument": "B-1234",
            "operator": "tech",
            "raw": "S S      23.41 g",
            "stable": True,
            "client_id": entry.key,
        }
    ]
    assert path.name.endswith(f"-{entry.key}.json")


def test_unstable_readings_and_weights_without_a_tag_are_refused_and_not_queued(
    tmp_path: Path,
) -> None:
    weighing = session(tmp_path)
    weighing.feed("S S      23.41 g")
    weighing.feed("0007")
    weighing.feed("S D      23.40 g")
    assert len(weighing.outbox) == 0
    assert weighing.refused[0].endswith("with no animal: scan the tag first")
    assert "unstable reading" in weighing.refused[1]
    weighing.feed("S S      23.41 g")
    weighing.feed("S S      23.41 g")  # a second weight without a new scan
    assert len(weighing.outbox) == 1
    assert weighing.refused[-1].endswith("scan the tag first")


def test_a_sartorius_reading_without_unit_is_unstable_and_refused(tmp_path: Path) -> None:
    weighing = session(tmp_path, BalanceProtocol.SARTORIUS)
    weighing.feed("A-12")
    weighing.feed("+    23.456    ")
    weighing.feed("+    23.456 g   ")
    [(_, entry)] = list(weighing.outbox.entries())
    assert json.loads(entry.body)[0]["animal"] == "A-12"
    assert json.loads(entry.body)[0]["weight_g"] == "23.46"
    assert json.loads(entry.body)[0]["raw"] == "+    23.456 g   "
    assert len(weighing.refused) == 1


def test_the_outbox_survives_a_restart_and_rejects_keep_the_answer(tmp_path: Path) -> None:
    weighing = session(tmp_path)
    for tag, line in [("0001", "S S 20.0 g"), ("0002", "S S 21.0 g")]:
        weighing.feed(tag)
        weighing.feed(line)
    reopened = Outbox(tmp_path / "outbox")
    entries = list(reopened.entries())
    assert [json.loads(e.body)[0]["animal"] for _, e in entries] == ["0001", "0002"]
    target = reopened.reject(entries[0][0], '{"detail": "no such animal"}')
    assert len(reopened) == 1
    assert target.with_suffix(".response.txt").read_text() == '{"detail": "no such animal"}'
    reopened.done(entries[1][0])
    assert len(reopened) == 0


def test_the_watcher_queues_a_file_once_it_stopped_changing_and_moves_it(tmp_path: Path) -> None:
    folder = tmp_path / "exports"
    folder.mkdir()
    outbox = Outbox(tmp_path / "outbox")
    watcher = FolderWatcher(
        folder, outbox, "/api/v1/device/plate-readings/", {"plate": "3"}, log=print
    )
    export = folder / "plate3.txt"
    export.write_bytes(b"first half")
    assert watcher.poll() == []  # first sight: maybe still being written
    export.write_bytes(b"first half, second half")
    os.utime(export, ns=(1, 1))
    assert watcher.poll() == []  # changed since the last poll
    assert len(watcher.poll()) == 1
    assert not export.exists() and (folder / "sent" / "plate3.txt").exists()
    [(path, stored)] = list(outbox.entries())
    assert stored.key.startswith("file-") and stored.extra == {"plate": "3"}
    assert outbox.attachment(path) == b"first half, second half"


def test_serial_lines_read_from_a_pty_split_on_cr_and_lf() -> None:
    controller, device = os.openpty()
    fd = open_serial(os.ttyname(device), 9600)
    os.write(controller, b"0003\r\nS S     22.10 g\r")
    os.write(controller, b"\nS D  22.2 g\n")
    lines: list[str] = []
    idle_ticks = 0
    for line in serial_lines(fd, idle=0.1):
        if line is None:
            idle_ticks += 1
            if idle_ticks > 20 or len(lines) == 3:
                break
            continue
        lines.append(line)
    for descriptor in (fd, device, controller):
        os.close(descriptor)
    assert lines == ["0003", "S S     22.10 g", "S D  22.2 g"]
