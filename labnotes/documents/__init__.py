"""Printed documents for study runs: cage cards, animal labels, daily worksheets, iCal feeds.

Pure rendering, no Django: frozen dataclasses from ``labnotes.documents.model`` in, PDF bytes or
text out. Views map their rows onto the dataclasses and decide what a reader may see (blinded arm
codes, dose volumes) before calling in; the renderers print exactly what they are given.
"""

from labnotes.documents.cards import render_animal_labels_pdf, render_cage_cards_pdf
from labnotes.documents.ical import render_ical
from labnotes.documents.model import (
    AnimalLabel,
    CageCard,
    CalendarTask,
    CardAnimal,
    EndpointStatus,
    LabelSize,
    Worksheet,
    WorksheetRow,
)
from labnotes.documents.worksheet import render_worksheet_html, render_worksheet_pdf

__all__ = [
    "AnimalLabel",
    "CageCard",
    "CalendarTask",
    "CardAnimal",
    "EndpointStatus",
    "LabelSize",
    "Worksheet",
    "WorksheetRow",
    "render_animal_labels_pdf",
    "render_cage_cards_pdf",
    "render_ical",
    "render_worksheet_html",
    "render_worksheet_pdf",
]
