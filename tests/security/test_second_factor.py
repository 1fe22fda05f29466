"""TOTP second factor: required for study directors, QA and lab admins; enrolment; demo."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from planner.models import SecurityEvent, SecurityEventKind
from tests.factories import TEST_PASSWORD, MembershipFactory, UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("second_factor_on")]


def _member(lab: Any, role: str) -> Any:
    user = UserFactory()
    MembershipFactory(user=user, lab=lab, role=role)
    return user


def _password_login(user: Any) -> Client:
    client = Client()
    response = client.post(
        "/accounts/login/", {"username": user.username, "password": TEST_PASSWORD}
    )
    assert response.status_code == 302
    return client


def _code(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"


@pytest.fixture
def director(lab: Any) -> Any:
    return _member(lab, "study_director")


@pytest.fixture
def director_device(director: Any) -> TOTPDevice:
    return TOTPDevice.objects.create(user=director, name="phone", confirmed=True)


def test_study_director_is_sent_to_verify_when_signed_in_with_password_only(
    director_device,
) -> None:
    client = _password_login(director_device.user)
    response = client.get("/studies/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/second-factor/verify/?next=%2Fstudies%2F"
    api = client.get("/api/v1/studies/")
    assert api.status_code == 403
    assert api.json()["title"] == "Second factor required"


@pytest.mark.parametrize("role", ["qa", "lab_admin"])
def test_qa_and_lab_admin_without_device_are_sent_to_enrol(lab: Any, role: str) -> None:
    client = _password_login(_member(lab, role))
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/second-factor/enrol/")


def test_scientist_needs_no_second_factor(scientist: Any) -> None:
    client = _password_login(scientist)
    assert client.get("/studies/").status_code == 200


def test_real_totp_code_verifies_and_opens_the_pages(director_device: TOTPDevice) -> None:
    client = _password_login(director_device.user)
    response = client.post(
        "/accounts/second-factor/verify/", {"token": _code(director_device), "next": "/studies/"}
    )
    assert response.status_code == 302 and response["Location"] == "/studies/"
    assert client.get("/studies/").status_code == 200
    assert (
        SecurityEvent.objects.filter(
            kind=SecurityEventKind.OTP_VERIFIED, user=director_device.user
        ).count()
        == 1
    )


def test_wrong_code_is_refused_and_logged(director_device: TOTPDevice) -> None:
    client = _password_login(director_device.user)
    wrong = f"{(int(_code(director_device)) + 1) % 1_000_000:06d}"
    response = client.post("/accounts/second-factor/verify/", {"token": wrong})
    assert response.status_code == 200
    assert b"That code is not right" in response.content
    assert client.get("/studies/").status_code == 302
    assert SecurityEvent.objects.filter(kind=SecurityEventKind.OTP_FAILED).count() == 1


def test_enrolment_shows_a_qr_code_and_confirms_the_device_with_a_code(director: Any) -> None:
    client = _password_login(director)
    page = client.get("/accounts/second-factor/enrol/?next=/studies/")
    assert page.status_code == 200
    assert b'src="data:image/svg+xml' in page.content
    device = TOTPDevice.objects.get(user=director, confirmed=False)
    response = client.post(
        "/accounts/second-factor/enrol/", {"token": _code(device), "next": "/studies/"}
    )
    assert response.status_code == 302 and response["Location"] == "/studies/"
    device.refresh_from_db()
    assert device.confirmed
    assert client.get("/studies/").status_code == 200
    assert SecurityEvent.objects.filter(kind=SecurityEventKind.OTP_ENROLLED, user=director).exists()


def test_password_alone_cannot_enrol_another_device_when_one_is_confirmed(director_device) -> None:
    client = _password_login(director_device.user)
    response = client.get("/accounts/second-factor/enrol/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/second-factor/verify/")
    assert TOTPDevice.objects.filter(user=director_device.user).count() == 1


def test_demo_users_get_the_documented_demo_secret(lab: Any) -> None:
    from planner.security_demo import (
        DEMO_TOTP_SECRET_BASE32,
        current_demo_code,
        ensure_demo_second_factor,
    )

    users = {"director": _member(lab, "study_director"), "qa": _member(lab, "qa")}
    message = ensure_demo_second_factor(users)
    ensure_demo_second_factor(users)
    assert DEMO_TOTP_SECRET_BASE32 == "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
    assert DEMO_TOTP_SECRET_BASE32 in message
    assert current_demo_code(59) == "287082"  # RFC 6238 appendix B, truncated to 6 digits
    device = TOTPDevice.objects.get(user=users["director"])
    assert device.confirmed and TOTPDevice.objects.count() == 2
    client = _password_login(users["director"])
    response = client.post("/accounts/second-factor/verify/", {"token": current_demo_code()})
    assert response.status_code == 302
