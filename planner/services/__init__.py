"""Writes and state transitions of the planner. One keyword-only function per write."""
