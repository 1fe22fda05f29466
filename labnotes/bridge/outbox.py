"""A local outbox: every request the bridge makes is written to disk first, with its key.

An entry is one HTTP request with a fixed ``Idempotency-Key``. It is written atomically
(temporary file, fsync, rename) before the first attempt and removed only after the server
answered 2xx, so a crash, a power cut or a dropped network never loses a reading, and a re-send
after an outage can never create a duplicate: the server replays its first answer for a key it
has seen. Entries are never merged or re-batched, because that would change their keys.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Entry:
    key: str
    method: str
    path: str
    content_type: str
    body: str
    """The request body: JSON text, or the name of a file kept beside the entry (uploads)."""
    created_at: str
    file_name: str = ""
    description: str = ""
    extra: dict[str, str] = field(default_factory=dict)


class Outbox:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.pending = root / "pending"
        self.rejected = root / "rejected"
        for folder in (self.pending, self.rejected):
            folder.mkdir(parents=True, exist_ok=True)

    def _write(self, path: Path, data: bytes) -> None:
        temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
        with open(temporary, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)

    def add(self, entry: Entry, attachment: bytes | None = None) -> Path:
        # Names sort by creation (nanoseconds), so entries are sent in the order they were made.
        stem = f"{time.time_ns():020d}-{entry.key}"
        if attachment is not None:
            self._write(self.pending / f"{stem}.bin", attachment)
        path = self.pending / f"{stem}.json"
        self._write(path, json.dumps(asdict(entry), sort_keys=True).encode())
        return path

    def entries(self) -> Iterator[tuple[Path, Entry]]:
        for path in sorted(self.pending.glob("*.json")):
            data: dict[str, Any] = json.loads(path.read_text())
            yield path, Entry(**data)

    def attachment(self, path: Path) -> bytes:
        return path.with_suffix(".bin").read_bytes()

    def done(self, path: Path) -> None:
        path.with_suffix(".bin").unlink(missing_ok=True)
        path.unlink()

    def reject(self, path: Path, response: str) -> Path:
        """Keep a request the server refused (4xx) with its answer, for a person to look at."""
        target = self.rejected / path.name
        os.replace(path, target)
        attachment = path.with_suffix(".bin")
        if attachment.exists():
            os.replace(attachment, target.with_suffix(".bin"))
        self._write(target.with_suffix(".response.txt"), response.encode())
        return target

    def __len__(self) -> int:
        return sum(1 for _ in self.pending.glob("*.json"))
