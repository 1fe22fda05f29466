"""Pages send the version the user opened; a stale save gets 409 and shows the other value."""

from __future__ import annotations

import pytest
from django.test import Client

from planner.models import Study
from tests.factories import TEST_PASSWORD


@pytest.mark.django_db
def test_stale_page_save_gets_409_and_shows_other_value_when_someone_saved_first(study, scientist):
    client = Client()
    assert client.login(username=scientist.username, password=TEST_PASSWORD)
    opened = client.get(f"/studies/{study.pk}/edit/")
    assert b'name="row_version" value="1"' in opened.content

    first = client.post(
        f"/studies/{study.pk}/edit/",
        {"title": "Colleague's title", "objective": "", "reason": "first", "row_version": "1"},
    )
    assert first.status_code == 302
    second = client.post(
        f"/studies/{study.pk}/edit/",
        {"title": "My title", "objective": "", "reason": "second", "row_version": "1"},
    )
    assert second.status_code == 409
    assert b"Colleague&#x27;s title" in second.content
    assert b'name="row_version" value="2"' in second.content
    study.refresh_from_db()
    assert study.title == "Colleague's title"
    assert study.row_version == 2


@pytest.mark.django_db
def test_page_edit_refused_when_reason_missing(study, scientist):
    client = Client()
    assert client.login(username=scientist.username, password=TEST_PASSWORD)
    response = client.post(
        f"/studies/{study.pk}/edit/", {"title": "No reason", "objective": "", "row_version": "1"}
    )
    assert response.status_code == 200
    assert b"This field is required" in response.content
    assert Study.objects.get(pk=study.pk).title != "No reason"
