"""Where lines come from: standard input or a serial port (termios, no pyserial needed)."""

from __future__ import annotations

import os
import select
import sys
import termios
import tty
from collections.abc import Iterator

BAUD_RATES = {
    1200: termios.B1200,
    2400: termios.B2400,
    4800: termios.B4800,
    9600: termios.B9600,
    19200: termios.B19200,
    38400: termios.B38400,
    57600: termios.B57600,
    115200: termios.B115200,
}


def stdin_lines() -> Iterator[str]:
    for line in sys.stdin:
        yield line.rstrip("\r\n")


def open_serial(port: str, baud: int = 9600) -> int:
    """Open a serial device raw, 8N1 at ``baud``; returns the file descriptor."""
    if baud not in BAUD_RATES:
        raise ValueError(f"Unsupported baud rate {baud}; use one of {sorted(BAUD_RATES)}.")
    fd = os.open(port, os.O_RDWR | os.O_NOCTTY)
    tty.setraw(fd)
    attributes = termios.tcgetattr(fd)
    attributes[4] = attributes[5] = BAUD_RATES[baud]  # ispeed, ospeed
    termios.tcsetattr(fd, termios.TCSANOW, attributes)
    return fd


def serial_lines(fd: int, *, idle: float = 1.0) -> Iterator[str | None]:
    """Lines from the device (CR, LF or CRLF ended); ``None`` after ``idle`` s without data,
    so the caller can retry its outbox while the balance is quiet."""
    buffer = b""
    while True:
        ready, _, _ = select.select([fd], [], [], idle)
        if not ready:
            yield None
            continue
        try:
            chunk = os.read(fd, 1024)
        except OSError:  # the other end of a pty closed
            chunk = b""
        if not chunk:
            if buffer.strip():
                yield buffer.decode("ascii", errors="replace")
            return
        buffer += chunk
        while True:
            positions = [p for p in (buffer.find(b"\r"), buffer.find(b"\n")) if p >= 0]
            if not positions:
                break
            end = min(positions)
            line, buffer = buffer[:end], buffer[end + 1 :]
            if line.strip():
                yield line.decode("ascii", errors="replace")
