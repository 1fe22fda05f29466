#!/usr/bin/env python
"""Django's command-line utility, with one-line messages for configuration and database errors."""

from __future__ import annotations

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    from config.env import ConfigError

    try:
        from django.core.management import execute_from_command_line
        from django.db.utils import OperationalError

        execute_from_command_line(sys.argv)
    except ConfigError as error:
        sys.exit(f"vivolog: configuration error: {error}")
    except OperationalError as error:
        from config.diagnostics import describe_database_error

        sys.exit(describe_database_error(error))


if __name__ == "__main__":
    main()
