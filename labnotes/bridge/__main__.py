"""``python -m labnotes.bridge``: the reference bridge client (README, "Instrument bridge")."""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from labnotes.bridge.balances import BalanceProtocol
from labnotes.bridge.client import Client, Flusher
from labnotes.bridge.outbox import Outbox
from labnotes.bridge.readings import DEFAULT_TAG_PATTERN, WeighingSession
from labnotes.bridge.sources import open_serial, serial_lines, stdin_lines
from labnotes.bridge.watcher import FolderWatcher

MEASUREMENTS_PATH = "/api/v1/device/measurements/"
FILES_PATH = "/api/v1/device/plate-readings/"


def _log(message: str) -> None:
    print(message, flush=True)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m labnotes.bridge",
        description="Send balance readings and instrument files to Vivolog; queue while offline.",
    )
    parser.add_argument("--url", default=os.environ.get("VIVOLOG_URL", "http://127.0.0.1:8000"))
    parser.add_argument(
        "--outbox",
        type=Path,
        default=Path(os.environ.get("VIVOLOG_BRIDGE_OUTBOX", Path.home() / ".vivolog-bridge")),
        help="folder where requests wait until the server has them (default ~/.vivolog-bridge)",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    balance = commands.add_parser("balance", help="read a balance (serial port or stdin)")
    balance.add_argument("--protocol", choices=[p.value for p in BalanceProtocol], required=True)
    balance.add_argument("--port", help="serial device, e.g. /dev/ttyUSB0 (default: stdin)")
    balance.add_argument("--baud", type=int, default=9600)
    balance.add_argument("--instrument", default="", help="the balance's serial number in Vivolog")
    balance.add_argument("--operator", default="", help="who is weighing (username)")
    balance.add_argument("--tag-pattern", default=DEFAULT_TAG_PATTERN)
    balance.add_argument("--path", default=MEASUREMENTS_PATH)

    watch = commands.add_parser("watch", help="upload plate-reader or flow exports from a folder")
    watch.add_argument("folder", type=Path)
    watch.add_argument("--path", default=FILES_PATH)
    watch.add_argument(
        "--field",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="form field sent with every file (e.g. plate=12)",
    )
    watch.add_argument("--interval", type=float, default=2.0)

    commands.add_parser("flush", help="send what waits in the outbox, then exit")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    token = os.environ.get("VIVOLOG_TOKEN", "")
    if not token:
        print(
            "Set VIVOLOG_TOKEN to the device token (shown once when it was created).",
            file=sys.stderr,
        )
        return 2
    outbox = Outbox(args.outbox)
    flusher = Flusher(outbox, Client(args.url, token), log=_log)

    if args.command == "flush":
        flusher.flush()
        waiting = len(outbox)
        _log(f"{waiting} request(s) still waiting in {outbox.pending}")
        return 0 if waiting == 0 else 1

    if args.command == "watch":
        fields = dict(item.split("=", 1) for item in args.field)
        watcher = FolderWatcher(args.folder, outbox, args.path, fields, log=_log)
        while True:
            watcher.poll()
            flusher.flush()
            time.sleep(args.interval)

    session = WeighingSession(
        outbox,
        BalanceProtocol(args.protocol),
        args.path,
        instrument=args.instrument,
        operator=args.operator,
        tag_pattern=args.tag_pattern,
        log=_log,
    )
    lines = serial_lines(open_serial(args.port, args.baud)) if args.port else stdin_lines()
    for line in lines:
        if line is not None and session.feed(line) is None:
            continue
        flusher.flush()
    # The input ended: a last try, and say what is left.
    flusher.flush()
    if len(outbox):
        _log(f"{len(outbox)} request(s) wait in {outbox.pending}; run `flush` when online.")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
