"""ASGI entry point."""

from __future__ import annotations

import os
import sys

from config.env import ConfigError

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

try:
    from django.core.asgi import get_asgi_application

    application = get_asgi_application()
except ConfigError as error:
    sys.exit(f"vivolog: configuration error: {error}")
