"""Turning a stream of lines (animal tags and balance output) into measurement requests."""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from labnotes.bridge.balances import (
    BalanceLineError,
    BalanceProtocol,
    parse_balance_line,
    to_grams,
)
from labnotes.bridge.outbox import Entry, Outbox

DEFAULT_TAG_PATTERN = r"[A-Za-z0-9][A-Za-z0-9_-]{0,39}"


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass
class WeighingSession:
    """Pairs each stable weight with the animal tag scanned (or typed) just before it.

    A tag line (from an RFID or barcode reader on the same line, or typed) selects the animal; the
    next stable weight becomes that animal's body weight and clears the selection, so a second
    weight without a new scan is refused instead of being booked to the wrong animal.
    """

    outbox: Outbox
    protocol: BalanceProtocol
    path: str
    instrument: str = ""
    operator: str = ""
    kind: str = "weight"
    tag_pattern: str = DEFAULT_TAG_PATTERN
    log: Callable[[str], None] = print
    clock: Callable[[], dt.datetime] = utc_now
    current_animal: str | None = None
    queued: int = 0
    refused: list[str] = field(default_factory=list)

    def feed(self, line: str) -> Entry | None:
        text = line.strip()
        if not text:
            return None
        # A tag is one word with no decimal point; balance output has a unit or a decimal value
        # (a bare integer in a tag's shape is read as a tag, never as a weight).
        if re.fullmatch(self.tag_pattern, text):
            self.current_animal = text
            self.log(f"animal {text}: put it on the balance")
            return None
        try:
            reading = parse_balance_line(line, self.protocol)
        except BalanceLineError as error:
            self._refuse(str(error))
            return None
        if not reading.stable:
            self._refuse(
                f"unstable reading {reading.raw.strip()!r} refused; wait for a stable weight"
            )
            return None
        if self.current_animal is None:
            self._refuse(f"weight {reading.raw.strip()!r} with no animal: scan the tag first")
            return None
        key = str(uuid.uuid4())
        grams = to_grams(reading)
        item = {
            "animal": self.current_animal,
            "kind": self.kind,
            "weight_g": f"{grams:.2f}",
            "unit": "g",
            "taken_at": self.clock().isoformat(),
            "instrument": self.instrument,
            "operator": self.operator,
            "raw": reading.raw,
            "stable": True,
            "client_id": key,
        }
        item = {name: value for name, value in item.items() if value != ""}
        entry = Entry(
            key=key,
            method="POST",
            path=self.path,
            content_type="application/json",
            body=json.dumps([item]),
            created_at=self.clock().strftime("%Y-%m-%dT%H:%M:%S.%f"),
            description=f"{self.current_animal} {item['weight_g']} g",
        )
        self.outbox.add(entry)
        self.queued += 1
        self.log(f"queued {entry.description}")
        self.current_animal = None
        return entry

    def _refuse(self, message: str) -> None:
        self.refused.append(message)
        self.log(f"REFUSED: {message}")
