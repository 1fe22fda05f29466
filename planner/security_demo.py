"""The demo's second factor: a fixed, published TOTP secret for the demo's privileged users.

Study directors, QA and lab admins must verify a TOTP code after their password, so the demo
gives ``director``, ``qa`` and ``labadmin`` a confirmed authenticator with the RFC 6238 test
secret (ASCII ``12345678901234567890``). Anyone can add it to an authenticator app, or print the
current code with::

    .venv/bin/python -m planner.security_demo

A demo secret is public by definition: never load the demo into a database with real data.
"""

from __future__ import annotations

import time
from base64 import b32encode
from collections.abc import Mapping
from typing import Any

DEMO_TOTP_KEY_HEX = b"12345678901234567890".hex()
DEMO_TOTP_SECRET_BASE32 = b32encode(bytes.fromhex(DEMO_TOTP_KEY_HEX)).decode()
DEMO_SECOND_FACTOR_USERS = ("director", "qa", "labadmin")
DEMO_DEVICE_NAME = "Demo authenticator (public secret)"


def current_demo_code(at: float | None = None) -> str:
    """The demo secret's 6-digit code at ``at`` (default now): RFC 6238, SHA-1, 30 s steps."""
    from django_otp.oath import TOTP

    generator = TOTP(bytes.fromhex(DEMO_TOTP_KEY_HEX), step=30, t0=0, digits=6)
    if at is not None:
        generator.time = at
    return f"{generator.token():06d}"


def ensure_demo_second_factor(users: Mapping[str, Any]) -> str:
    """Give the demo's director, QA and lab admin a confirmed TOTP device with the demo secret
    (idempotent). Returns the line the demo loader prints."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    for username in DEMO_SECOND_FACTOR_USERS:
        user = users.get(username)
        if user is None:
            continue
        device = TOTPDevice.objects.filter(user=user, name=DEMO_DEVICE_NAME).first()
        if device is None:
            TOTPDevice.objects.create(
                user=user, name=DEMO_DEVICE_NAME, key=DEMO_TOTP_KEY_HEX, confirmed=True
            )
        elif device.key != DEMO_TOTP_KEY_HEX or not device.confirmed:
            device.key, device.confirmed = DEMO_TOTP_KEY_HEX, True
            device.save(update_fields=["key", "confirmed"])
    return (
        f"second factor for {', '.join(DEMO_SECOND_FACTOR_USERS)}: TOTP secret "
        f"{DEMO_TOTP_SECRET_BASE32} (add it to an authenticator app, or print the current code "
        "with `.venv/bin/python -m planner.security_demo`)"
    )


if __name__ == "__main__":
    remaining = 30 - int(time.time()) % 30
    print(f"{current_demo_code()}  (valid for {remaining} more seconds)")
