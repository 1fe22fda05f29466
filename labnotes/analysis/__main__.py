"""Entry point of ``python -m labnotes.analysis``."""

from __future__ import annotations

import sys

from labnotes.analysis.cli import main

if __name__ == "__main__":
    sys.exit(main())
