"""Endpoint alerts from paper (issue 6): a value transcribed from a worksheet opens its
endpoint episode at once but messages nobody until a second person has verified the sheet;
then the alert goes out once, saying the value came from paper and who verified it."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from labnotes.models import EndpointEpisode, EpisodeStatus
from labnotes.services import transcription as services
from planner.models import OutboundMessage
from tests.labnotes.builders import Design
from tests.labnotes.test_transcription import _allocated, _scan, _sheet_day

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media_root(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return Path(settings.MEDIA_ROOT)


def _sheet(design: Design, run: Any, animals: list[Any]) -> Any:
    # 22 mm is over the default 20 mm diameter limit; 9 mm is far below every limit
    axes = [("22.0", "12.0"), ("9.0", "6.0")]
    entries = [
        services.SheetEntry(
            animal=animal,
            tumour=animal.tumours.get(),
            length_mm=Decimal(length),
            width_mm=Decimal(width),
        )
        for animal, (length, width) in zip(animals, axes, strict=True)
    ]
    return services.create_transcription_sheet(
        run=run,
        sheet_date=_sheet_day(run),
        sheet_time=dt.time(9, 30),
        entries=entries,
        transcribed_by=design.technician,
        scan=_scan(design),
    )


def test_transcribed_reading_at_a_limit_alerts_only_once_the_sheet_is_verified(
    design: Design, run: Any
) -> None:
    animals = _allocated(design, run, 2)
    sheet = _sheet(design, run, animals)
    episode = EndpointEpisode.objects.get(animal=animals[0])
    assert episode.status == EpisodeStatus.OPEN and episode.cause == "tumour_diameter"
    assert episode.alerted_at is None
    assert not EndpointEpisode.objects.filter(animal=animals[1]).exists()
    assert OutboundMessage.objects.count() == 0  # an unchecked copy messages nobody

    services.verify_transcription_sheet(sheet=sheet, verified_by=design.scientist)
    episode.refresh_from_db()
    assert episode.alerted_at is not None
    sent = OutboundMessage.objects.filter(related_object=f"animal {animals[0].pk}")
    recipients = {m.recipient_id for m in sent}
    assert design.technician.pk in recipients and len(recipients) == sent.count() >= 2
    message = sent.first()
    assert message is not None
    assert "verified paper sheet" in message.subject and animals[0].tag in message.subject
    assert design.scientist.get_username() in message.body and "22" in message.body
    assert all(m.reason.endswith("transcription verified") for m in sent)
    assert not OutboundMessage.objects.filter(related_object=f"animal {animals[1].pk}").exists()
    # nothing is sent twice: a second look at the episodes finds nothing left to alert
    from labnotes.services.welfare import alert_verified_transcription

    assert alert_verified_transcription(sheet=sheet, verified_by=design.scientist) == 0
    assert OutboundMessage.objects.count() == sent.count()
