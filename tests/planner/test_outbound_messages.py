"""Email goes through a persisted OutboundMessage, sent by the real worker."""

from __future__ import annotations

import pytest
from django.test import Client

from planner.models import OutboundMessage, OutboundStatus
from planner.services.outbound import queue_message
from tests.conftest import wait_for
from tests.factories import TEST_PASSWORD


@pytest.mark.worker
def test_message_is_sent_by_worker_and_recorded_when_queued(
    celery_worker_process, lab, scientist, qa_user
):
    message = queue_message(
        lab=lab,
        recipient=scientist,
        subject="Endpoint reached: cage 3",
        body="Animal 0042 reached 2000 mm3.",
        reason="endpoint alert",
        related_object="animal 0042",
    )
    assert message.status == OutboundStatus.PENDING

    def sent() -> OutboundMessage | None:
        current = OutboundMessage.objects.get(pk=message.pk)
        return current if current.status != OutboundStatus.PENDING else None

    done = wait_for(sent, timeout=60)
    assert done.status == OutboundStatus.SENT, done.error
    assert done.attempts == 1
    assert done.sent_at is not None
    log = celery_worker_process.log_path.read_text()
    assert "Endpoint reached: cage 3" in log  # the console email backend wrote it

    client = Client()
    assert client.login(username=qa_user.username, password=TEST_PASSWORD)
    page = client.get("/alerts/")
    assert b"Endpoint reached: cage 3" in page.content and b"endpoint alert" in page.content
    listing = client.get("/api/v1/outbound-messages/").json()
    assert [(row["recipient"], row["reason"], row["status"]) for row in listing["results"]] == [
        (scientist.username, "endpoint alert", "sent")
    ]


@pytest.mark.django_db
def test_message_fails_visibly_when_recipient_has_no_address(lab, scientist):
    scientist.email = ""
    scientist.save()
    message = queue_message(lab=lab, recipient=scientist, subject="s", body="b", reason="r")
    assert message.status == OutboundStatus.FAILED
    assert "no email address" in message.error


@pytest.mark.django_db
def test_technician_sees_only_own_messages_when_listing(lab, scientist, technician):
    queue_message(lab=lab, recipient=scientist, subject="for scientist", body="b", reason="r")
    queue_message(lab=lab, recipient=technician, subject="for technician", body="b", reason="r")
    client = Client()
    assert client.login(username=technician.username, password=TEST_PASSWORD)
    subjects = [
        row["subject"] for row in client.get("/api/v1/outbound-messages/").json()["results"]
    ]
    assert subjects == ["for technician"]
