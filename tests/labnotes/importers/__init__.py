"""Tests of the instrument file parsers (no database)."""
