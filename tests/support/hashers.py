"""A password hasher for tests: the production algorithm with few iterations.

Django 5.2's PBKDF2 default (1,000,000 iterations) takes 0.5–2 s per hash on our 2-core
machines, and the suite creates and logs in thousands of people: most of its time went into
hashing. Same algorithm and code path, so password checks, re-authentication at signing and
lockouts behave as in production; only the work factor is lower.
"""

from __future__ import annotations

from django.contrib.auth.hashers import PBKDF2PasswordHasher


class FastPBKDF2PasswordHasher(PBKDF2PasswordHasher):
    iterations = 1_000
