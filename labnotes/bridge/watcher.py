"""Watching a folder for plate-reader (or flow) exports and queueing each finished file once."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from labnotes.bridge.outbox import Entry, Outbox


@dataclass
class FolderWatcher:
    """Queues a file once its size and modification time stopped changing between two polls
    (instruments write exports in several steps), then moves it to ``sent/`` beside it.

    The Idempotency-Key is the file's SHA-256, so the same export dropped twice is sent once.
    """

    folder: Path
    outbox: Outbox
    path: str
    fields: dict[str, str] = field(default_factory=dict)
    log: Callable[[str], None] = print
    seen: dict[str, tuple[int, int]] = field(default_factory=dict)

    def poll(self) -> list[Entry]:
        queued: list[Entry] = []
        archive = self.folder / "sent"
        archive.mkdir(exist_ok=True)
        for path in sorted(self.folder.iterdir()):
            if not path.is_file() or path.name.startswith("."):
                continue
            stat = path.stat()
            signature = (stat.st_size, stat.st_mtime_ns)
            if self.seen.get(path.name) != signature:
                self.seen[path.name] = signature
                continue
            data = path.read_bytes()
            digest = hashlib.sha256(data).hexdigest()
            entry = Entry(
                key=f"file-{digest}",
                method="POST",
                path=self.path,
                content_type="multipart/form-data",
                body="",
                created_at=dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f"),
                file_name=path.name,
                description=f"file {path.name} ({len(data)} bytes)",
                extra=dict(self.fields),
            )
            self.outbox.add(entry, attachment=data)
            os.replace(path, archive / path.name)
            del self.seen[path.name]
            queued.append(entry)
            self.log(f"queued {entry.description}")
        return queued
