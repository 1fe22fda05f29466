"""labnotes' part of the demo (runs, animals, records arrive with later issues)."""

from __future__ import annotations


def load_demo(planner_result: dict[str, object]) -> None:
    """Nothing recorded yet in the demo: the runs issue adds a randomized run here."""
    return None
