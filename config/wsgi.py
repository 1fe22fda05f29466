"""WSGI entry point (gunicorn config.wsgi)."""

from __future__ import annotations

import os
import sys

from config.env import ConfigError

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

try:
    from django.core.wsgi import get_wsgi_application
    from django.urls import get_resolver

    application = get_wsgi_application()
    # Every URLconf and view imported now, as each gunicorn worker starts, rather than by the
    # worker's first request (which then took over a second longer, e.g. a device's first
    # batch of readings).
    get_resolver().url_patterns  # noqa: B018
except ConfigError as error:
    sys.exit(f"vivolog: configuration error: {error}")
