"""The lab's rule for unqualified instruments in the API: any member reads it, only lab admins
change it (If-Match, a reason, audited), and the rule then governs the device ingest."""

from __future__ import annotations

from typing import Any

import pytest

from labnotes.models import InstrumentSettings
from tests.factories import MembershipFactory, UserFactory
from tests.labnotes.api.conftest import client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin(lab: Any) -> Any:
    user = UserFactory()  # type: ignore[no-untyped-call]
    MembershipFactory(user=user, lab=lab, role="lab_admin")  # type: ignore[no-untyped-call]
    return user


def _url(lab: Any) -> str:
    return f"/api/v1/instrument-settings/{lab.pk}/"


def _put(client: Any, lab: Any, etag: str | None, **body: Any) -> Any:
    headers = {"HTTP_IF_MATCH": etag} if etag is not None else {}
    return client.put(_url(lab), body, format="json", **headers)


def test_members_read_the_default_rule_and_only_their_labs(design: Any, other_lab: Any) -> None:
    client = client_for(design.technician)
    response = client.get(_url(design.lab))
    assert response.status_code == 200
    assert response.json() == {
        "lab": design.lab.pk,
        "unqualified_readings": "flag",
        "require_registered_instrument": False,
        "row_version": 0,
    }
    assert response["ETag"] == f'"labnotes.instrumentsettings-lab{design.lab.pk}-v0"'
    listing = client.get("/api/v1/instrument-settings/").json()
    assert [row["lab"] for row in listing] == [design.lab.pk]
    assert client.get(_url(other_lab)).status_code == 404


def test_admin_changes_the_rule_with_if_match_and_a_reason_and_it_is_audited(
    design: Any, admin: Any
) -> None:
    client = client_for(admin)
    etag = client.get(_url(design.lab))["ETag"]
    response = _put(client, design.lab, etag, unqualified_readings="refuse", reason="SOP-12")
    assert response.status_code == 200, response.content
    assert response.json()["unqualified_readings"] == "refuse"
    assert response.json()["row_version"] == 1
    saved = InstrumentSettings.objects.get(lab=design.lab)
    assert saved.unqualified_readings == "refuse"
    (event,) = saved.events.all()  # type: ignore[attr-defined]
    context = (
        event.pgh_context if isinstance(event.pgh_context, dict) else event.pgh_context.metadata
    )
    assert context["reason"] == "SOP-12" and context["user_id"] == admin.pk
    # The old ETag is stale now: 412 with the current one, nothing changed.
    stale = _put(client, design.lab, etag, unqualified_readings="flag", reason="again")
    assert stale.status_code == 412
    assert stale["Content-Type"] == "application/problem+json"
    assert stale["ETag"] == response["ETag"]
    saved.refresh_from_db()
    assert saved.unqualified_readings == "refuse" and saved.row_version == 1


def test_non_admins_get_403_and_bad_bodies_are_refused_naming_the_field(
    design: Any, admin: Any
) -> None:
    etag = f'"labnotes.instrumentsettings-lab{design.lab.pk}-v0"'
    for user in (design.technician, design.director, design.scientist, design.viewer):
        refused = _put(
            client_for(user), design.lab, etag, unqualified_readings="refuse", reason="x"
        )
        assert refused.status_code == 403, user
    client = client_for(admin)
    assert (
        _put(client, design.lab, None, unqualified_readings="refuse", reason="x").status_code == 428
    )
    bad = _put(client, design.lab, etag, unqualified_readings="sometimes", reason="x")
    assert bad.status_code == 400
    assert [error["field"] for error in bad.json()["errors"]] == ["unqualified_readings"]
    no_reason = _put(client, design.lab, etag, unqualified_readings="refuse")
    assert no_reason.status_code == 400
    assert [error["field"] for error in no_reason.json()["errors"]] == ["reason"]
    assert not InstrumentSettings.objects.exists()


def test_history_lists_the_rule_changes_with_their_reasons(design: Any, admin: Any) -> None:
    client = client_for(admin)
    assert client.get(f"{_url(design.lab)}history/").json() == []
    etag = client.get(_url(design.lab))["ETag"]
    changed = _put(client, design.lab, etag, unqualified_readings="refuse", reason="SOP-12")
    assert changed.status_code == 200
    entries = client_for(design.technician).get(f"{_url(design.lab)}history/").json()
    assert len(entries) == 1
    assert "SOP-12" in str(entries[0])
