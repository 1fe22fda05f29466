"""The lab's capture settings page: lab admins only, labelled fields, validation naming the
field, audited changes with a reason, stale writes refused."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from labnotes.models import CaptureSettings
from labnotes.services.capture_settings import save_capture_settings
from tests.factories import MembershipFactory, UserFactory
from tests.labnotes.test_run_pages import client_for

pytestmark = pytest.mark.django_db

URL = "/lab/capture-settings/"


@pytest.fixture
def admin(lab: Any) -> Any:
    user = UserFactory()  # type: ignore[no-untyped-call]
    MembershipFactory(user=user, lab=lab, role="lab_admin")  # type: ignore[no-untyped-call]
    return user


def _post(admin: Any, **changes: str) -> Any:
    data = {
        "tag_prefix": "#",
        "tag_suffix": "",
        "tag_pattern": "",
        "grid_order": "row",
        "repeat_policy": "last",
        "trend_max_fold_per_day": "1.50",
        "axis_min_mm": "1",
        "axis_max_mm": "40",
        "weight_min_g": "5",
        "weight_max_g": "60",
        "reason": "scanners now send #",
        "row_version": "0",
    } | changes
    return client_for(admin).post(reverse("capture_settings"), data)


def test_url_is_where_the_grid_links() -> None:
    assert reverse("capture_settings") == URL


def test_page_is_for_lab_admins_only(lab: Any, admin: Any, design: Any) -> None:
    page = client_for(admin).get(URL)
    assert page.status_code == 200
    html = page.content.decode()
    for label in ("Scanned tag prefix", "Scanned tag pattern", "Enter moves",
                  "Largest plausible caliper axis (mm)", "Reason for the change"):  # fmt: skip
        assert f">{label}" in html, label
    assert 'for="id_tag_prefix"' in html and 'id="id_tag_prefix"' in html
    for user in (design.technician, design.director):
        assert client_for(user).get(URL).status_code == 403
        assert _post(user).status_code == 403
    assert not CaptureSettings.objects.exists()


def test_admin_saves_settings_with_a_reason_and_the_change_is_audited(lab: Any, admin: Any) -> None:
    response = _post(admin)
    assert response.status_code == 302
    saved = CaptureSettings.objects.get(lab=lab)
    assert saved.tag_prefix == "#" and saved.row_version == 1
    response = _post(
        admin, axis_max_mm="35,0", reason="largest tumours stop at 35 mm", row_version="1"
    )
    assert response.status_code == 302
    saved.refresh_from_db()
    assert saved.axis_max_mm == Decimal("35.00") and saved.row_version == 2
    events = list(saved.events.order_by("pgh_id"))  # type: ignore[attr-defined]
    assert len(events) == 2
    context = events[-1].pgh_context
    metadata = context if isinstance(context, dict) else context.metadata
    assert metadata["reason"] == "largest tumours stop at 35 mm"
    assert str(events[0].axis_max_mm) in ("40", "40.00", "40.0")


@pytest.mark.parametrize(
    "changes,field,message",
    [
        ({"axis_min_mm": "50"}, "axis_max_mm", "must not be below the smallest"),
        ({"trend_max_fold_per_day": "1"}, "trend_max_fold_per_day", "above 1"),
        ({"tag_pattern": "([0-9"}, "tag_pattern", "Not a valid pattern"),
        ({"tag_pattern": ".*"}, "tag_pattern", "matches an empty scan"),
        ({"weight_max_g": "-3"}, "weight_max_g", "above 0"),
        ({"weight_min_g": "light"}, "weight_min_g", "'light' is not a number"),
        ({"reason": ""}, "reason", "required"),
    ],
)
def test_bad_values_are_refused_naming_the_field_and_nothing_is_written(
    lab: Any, admin: Any, changes: dict[str, str], field: str, message: str
) -> None:
    response = _post(admin, **changes)
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert field in errors and message in " ".join(errors[field]), errors
    assert not CaptureSettings.objects.exists()


def test_stale_write_is_refused_and_shows_the_saved_values(lab: Any, admin: Any) -> None:
    assert _post(admin).status_code == 302
    assert _post(admin, tag_prefix="!", reason="other admin", row_version="1").status_code == 302
    response = _post(admin, tag_prefix="$", reason="mine", row_version="1")
    assert response.status_code == 409
    assert "Someone changed these settings" in response.content.decode()
    assert CaptureSettings.objects.get(lab=lab).tag_prefix == "!"


def test_service_refuses_non_admins_and_a_missing_reason(lab: Any, admin: Any, design: Any) -> None:
    with pytest.raises(PermissionDenied):
        save_capture_settings(
            lab=lab, changed_by=design.technician, reason="x", values={"tag_prefix": "#"}
        )
    with pytest.raises(ValidationError):
        save_capture_settings(lab=lab, changed_by=admin, reason=" ", values={"tag_prefix": "#"})
    assert not CaptureSettings.objects.exists()
