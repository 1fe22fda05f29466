"""Writes and state transitions of the lab record."""
