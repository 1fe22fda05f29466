"""WSGI entry point (gunicorn config.wsgi)."""

from __future__ import annotations

import os
import sys

from config.env import ConfigError

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

try:
    from django.core.wsgi import get_wsgi_application

    application = get_wsgi_application()
except ConfigError as error:
    sys.exit(f"vivolog: configuration error: {error}")
