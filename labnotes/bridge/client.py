"""Sending outbox entries to Vivolog over HTTP (urllib only), with retries and backoff."""

from __future__ import annotations

import random
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from labnotes.bridge.outbox import Entry, Outbox


class Outcome(StrEnum):
    SENT = "sent"
    REJECTED = "rejected"
    RETRY = "retry"
    UNAUTHORIZED = "unauthorized"


@dataclass(frozen=True)
class Attempt:
    outcome: Outcome
    status: int | None
    message: str
    retry_after_s: float | None = None


def _multipart(file_name: str, data: bytes, fields: dict[str, str]) -> tuple[bytes, str]:
    boundary = f"vivolog-bridge-{random.getrandbits(64):016x}"
    parts: list[bytes] = []
    for name, value in fields.items():
        header = f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
        parts.append(f"{header}{value}\r\n".encode())
    parts.append(
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
            f'filename="{file_name}"\r\nContent-Type: application/octet-stream\r\n\r\n'
        ).encode()
        + data
        + b"\r\n"
    )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


class Client:
    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        timeout_s: float = 30.0,
    ) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise ValueError(
                f"The server URL must start with http:// or https://, not {base_url!r}."
            )
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.timeout_s = timeout_s

    def send(self, entry: Entry, attachment: bytes | None = None) -> Attempt:
        if attachment is not None:
            body, content_type = _multipart(entry.file_name, attachment, entry.extra)
        else:
            body, content_type = entry.body.encode(), entry.content_type
        # The scheme is checked in __init__ (http or https only).
        request = urllib.request.Request(  # noqa: S310
            self.base_url + entry.path,
            data=body,
            method=entry.method,
            headers={
                "Authorization": f"Token {self.token}",
                "Idempotency-Key": entry.key,
                "Content-Type": content_type,
                "Accept": "application/json",
                "User-Agent": "vivolog-bridge/1",
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as response:  # noqa: S310
                return Attempt(
                    Outcome.SENT, response.status, response.read().decode(errors="replace")
                )
        except urllib.error.HTTPError as error:
            text = error.read().decode(errors="replace")
            if error.code == 401:
                return Attempt(Outcome.UNAUTHORIZED, 401, text)
            if error.code in (408, 409, 425, 429) or error.code >= 500:
                # 409: the same key is still being processed (an earlier attempt in flight).
                retry_after = error.headers.get("Retry-After")
                seconds = float(retry_after) if retry_after and retry_after.isdigit() else None
                return Attempt(Outcome.RETRY, error.code, text, seconds)
            return Attempt(Outcome.REJECTED, error.code, text)
        except (urllib.error.URLError, TimeoutError, ConnectionError, OSError) as error:
            return Attempt(Outcome.RETRY, None, f"network: {error}")


@dataclass
class Flusher:
    """Sends pending entries in order; stops at the first one that must wait."""

    outbox: Outbox
    client: Client
    log: Callable[[str], None] = print
    base_delay_s: float = 1.0
    max_delay_s: float = 60.0
    failures: int = 0
    not_before: float = 0.0

    def next_delay(self, attempt: Attempt) -> float:
        if attempt.retry_after_s is not None:
            return attempt.retry_after_s
        delay = min(self.max_delay_s, self.base_delay_s * 2.0 ** min(self.failures, 10))
        return delay * random.uniform(0.5, 1.0)

    def flush(self, *, now: Callable[[], float] = time.monotonic) -> int:
        """Try every pending entry in order; returns how many were sent. Never raises on I/O."""
        if now() < self.not_before:
            return 0
        sent = 0
        for path, entry in self.outbox.entries():
            attachment = self.outbox.attachment(path) if entry.file_name else None
            attempt = self.client.send(entry, attachment)
            if attempt.outcome is Outcome.SENT:
                self.outbox.done(path)
                self.failures = 0
                sent += 1
                self.log(f"sent {entry.description or entry.key} ({attempt.status})")
                continue
            if attempt.outcome is Outcome.REJECTED:
                target = self.outbox.reject(path, attempt.message)
                self.log(
                    f"REFUSED {entry.description or entry.key} ({attempt.status}): "
                    f"{attempt.message[:500]} — kept in {target}"
                )
                continue
            if attempt.outcome is Outcome.UNAUTHORIZED:
                self.log(
                    "REFUSED: the token is invalid, expired or revoked (401). Nothing lost: "
                    f"{len(self.outbox)} request(s) wait in {self.outbox.pending}."
                )
                self.failures += 1
                self.not_before = now() + self.max_delay_s
                return sent
            self.failures += 1
            delay = self.next_delay(attempt)
            self.not_before = now() + delay
            self.log(
                f"offline or busy ({attempt.status or attempt.message}); "
                f"{len(self.outbox)} waiting, next try in {delay:.0f} s"
            )
            return sent
        return sent
