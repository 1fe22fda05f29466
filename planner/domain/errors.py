"""The two error types the planner's domain core raises.

Messages are written for the scientist who typed the value, not for a developer: they quote the
offending value, say what was expected and, where it helps, give an example. Field keys are the
parameter names (``volume_ul``); nested values use dots and list positions counted from 0
(``cell_line.rrid``, ``markers[2].clone``); problems that belong to no single field use
``"__all__"``, the key Django uses for non-field errors, so services can pass the dictionary
straight to ``ValidationError``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

NON_FIELD = "__all__"


class DomainError(ValueError):
    """A rule of the domain was broken; ``field`` names the input it concerns, if any."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        self.message = message
        self.field = field
        super().__init__(f"{field}: {message}" if field else message)


class ParameterErrors(DomainError):
    """Every problem found in a set of parameters at once, as field name → messages.

    Raised only with at least one message, so that a form can show all mistakes in one round
    instead of one per submission.
    """

    def __init__(self, errors: Mapping[str, Sequence[str]]) -> None:
        cleaned = {field: list(messages) for field, messages in errors.items() if messages}
        if not cleaned:
            raise ValueError("ParameterErrors needs at least one message")
        self.errors: dict[str, list[str]] = cleaned
        summary = "; ".join(
            f"{field}: {message}" for field, messages in cleaned.items() for message in messages
        )
        super().__init__(summary)
