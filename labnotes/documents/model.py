"""What the document renderers take: plain frozen dataclasses, no Django.

Callers map their rows onto these. Every string here ends up printed, so the caller decides what
may be seen: ``arm_display`` is either a blinded arm code or an arm label, chosen by the caller
from the reader's permissions; the renderers never receive the other one. Likewise a worksheet
row's ``dose_volume_ul`` is printed only on a dosers' copy, and ``tasks`` are printed as given
(a blinded technician's worksheet must be built without dose tasks).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal, get_args

EndpointStatus = Literal["ok", "approaching", "reached"]
LabelSize = Literal["cage_card", "thermal_label"]

ENDPOINT_STATUSES: tuple[str, ...] = get_args(EndpointStatus)
LABEL_SIZES: tuple[str, ...] = get_args(LabelSize)

# A card has room for this many animal lines; beyond it the renderer refuses rather than
# silently dropping animals off the edge of the card.
MAX_ANIMALS_PER_CARD = 10


def _require_http_url(url: str, what: str) -> None:
    # The URL becomes a QR code and a PDF link: only web addresses, never javascript: or file:.
    if not url.lower().startswith(("https://", "http://")):
        raise ValueError(f"{what} must be an absolute http(s) URL, got {url!r}")


@dataclass(frozen=True, slots=True)
class CardAnimal:
    """One animal line on a cage card. ``sex`` as the lab writes it (e.g. ``F``, ``M``)."""

    tag: str
    sex: str
    date_of_birth: dt.date | None


@dataclass(frozen=True, slots=True)
class CageCard:
    """One cage card. ``qr_url`` is the absolute URL of the cage page the QR code points to."""

    study_code: str
    run_code: str
    cage_label: str
    room: str
    rack: str
    arm_display: str
    ethics_protocol_number: str
    animals: tuple[CardAnimal, ...]
    qr_url: str

    def __post_init__(self) -> None:
        _require_http_url(self.qr_url, f"cage {self.cage_label!r}: qr_url")
        if len(self.animals) > MAX_ANIMALS_PER_CARD:
            raise ValueError(
                f"cage {self.cage_label!r} has {len(self.animals)} animals; a card holds at most "
                f"{MAX_ANIMALS_PER_CARD}"
            )


@dataclass(frozen=True, slots=True)
class AnimalLabel:
    """A per-animal label (tube, ear-tag sheet, individual housing): tag, study and a QR code."""

    study_code: str
    run_code: str
    tag: str
    cage_label: str
    arm_display: str
    qr_url: str

    def __post_init__(self) -> None:
        _require_http_url(self.qr_url, f"animal {self.tag!r}: qr_url")


@dataclass(frozen=True, slots=True)
class WorksheetRow:
    """One animal on the daily worksheet.

    The ``last_*`` readings are the latest recorded values (``None`` when there are none yet) and
    ``last_measured_on`` the date they were taken. ``dose_volume_ul`` is ignored unless the
    worksheet is a dosers' copy.
    """

    rack: str
    cage_label: str
    tag: str
    arm_display: str
    last_length_mm: float | None
    last_width_mm: float | None
    last_weight_g: float | None
    last_measured_on: dt.date | None
    endpoint_status: EndpointStatus
    tasks: tuple[str, ...]
    dose_volume_ul: float | None = None

    def __post_init__(self) -> None:
        if self.endpoint_status not in ENDPOINT_STATUSES:
            raise ValueError(
                f"animal {self.tag!r}: endpoint_status must be one of {ENDPOINT_STATUSES}, "
                f"got {self.endpoint_status!r}"
            )


@dataclass(frozen=True, slots=True)
class Worksheet:
    """A printable daily worksheet for one room (or one person's share of it) on one day."""

    lab_name: str
    study_code: str
    run_code: str
    day: dt.date
    study_day: int | None
    room: str
    prepared_for: str
    dosers_copy: bool
    rows: tuple[WorksheetRow, ...]


@dataclass(frozen=True, slots=True)
class CalendarTask:
    """One all-day calendar entry. ``uid`` must be stable across feeds (e.g. ``task-42@host``)."""

    uid: str
    summary: str
    date: dt.date
    description: str
    url: str | None

    def __post_init__(self) -> None:
        if not self.uid.strip():
            raise ValueError("a calendar task needs a non-empty uid")
        # datetime is a subclass of date; an all-day event must not carry a time.
        if isinstance(self.date, dt.datetime):
            raise TypeError(f"task {self.uid!r}: date must be a date, not a datetime")
        if self.url is not None:
            _require_http_url(self.url, f"task {self.uid!r}: url")
