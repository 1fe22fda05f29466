"""Electronic signatures: re-authentication, meaning, server time, bound to the version signed;
a later change shows the signature invalid; printed in the report PDF; tokens never sign."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import DatabaseError, transaction
from django.test import Client
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from labnotes.reports import model as rm
from labnotes.reports.html import render_html
from labnotes.reports.pdf import render_pdf
from labnotes.reports.results import compute_results
from labnotes.reports.synthetic import synthetic_study
from planner.models import SecurityEvent, SecurityEventKind, Signature, Study
from planner.services import signatures as signature_services
from tests.factories import TEST_PASSWORD, MembershipFactory, UserFactory
from tests.labnotes.reports.test_report import pdf_text, squash


@pytest.fixture
def director(lab: Any) -> Any:
    user = UserFactory(first_name="Dana", last_name="Director")  # type: ignore[no-untyped-call]
    MembershipFactory(user=user, lab=lab, role="study_director")  # type: ignore[no-untyped-call]
    return user


def _code(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"


def _sign(record: Any, user: Any, **kwargs: Any) -> Signature:
    arguments = {"meaning": "approved", "password": TEST_PASSWORD} | kwargs
    return signature_services.sign_record(record=record, signer=user, **arguments)


@pytest.mark.django_db
def test_signing_without_the_password_or_with_a_wrong_one_fails(
    study: Study, director: Any
) -> None:
    for password in ("", "not-the-password"):
        with pytest.raises(ValidationError) as caught:
            _sign(study, director, password=password)
        assert "password" in caught.value.message_dict
    assert Signature.objects.count() == 0
    refused = SecurityEvent.objects.filter(kind=SecurityEventKind.SIGNING_REFUSED, user=director)
    assert refused.count() == 2
    assert [event.detail["field"] for event in refused] == ["password", "password"]


@pytest.mark.django_db
def test_a_wrong_totp_code_fails_and_the_right_one_signs(study: Study, director: Any) -> None:
    device = TOTPDevice.objects.create(user=director, name="phone", confirmed=True)
    right = _code(device)
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"
    for code in ("", wrong):
        with pytest.raises(ValidationError) as caught:
            _sign(study, director, otp_token=code)
        assert "otp_token" in caught.value.message_dict
    assert Signature.objects.count() == 0
    device.refresh_from_db()
    assert device.throttling_failure_count == 1  # the wrong code counted against the device
    device.throttle_reset()  # django-otp delays the next try after a failure; not tested here
    signature = _sign(study, director, otp_token=right)
    assert signature.second_factor is True
    assert Signature.objects.count() == 1


@pytest.mark.django_db
def test_signature_binds_name_meaning_server_time_and_the_hash_of_the_version(
    study: Study, director: Any
) -> None:
    before = dt.datetime.now(dt.UTC)
    signature = _sign(study, director)
    assert signature.signer_name == "Dana Director"
    assert signature.meaning == "approved" and signature.signer_role == "study_director"
    assert before - dt.timedelta(seconds=5) <= signature.signed_at <= dt.datetime.now(dt.UTC)
    assert signature.content_sha256 == signature_services.content_hash(study)
    assert len(signature.content_sha256) == 64
    assert signature.events.count() == 1  # type: ignore[attr-defined]
    assert SecurityEvent.objects.filter(kind=SecurityEventKind.SIGNED, user=director).count() == 1
    with pytest.raises(ValidationError):
        _sign(study, director)  # the same version, meaning and person: once
    assert Signature.objects.count() == 1


@pytest.mark.django_db
def test_changing_a_signed_design_invalidates_the_signature(study: Study, director: Any) -> None:
    _sign(study, director)
    [view] = signature_services.signatures_for(study)
    assert view.valid and view.status == "valid"
    Study.objects.filter(pk=study.pk).update(title="A different objective")
    study.refresh_from_db()
    [view] = signature_services.signatures_for(study)
    assert not view.valid
    assert view.status == "invalid — record changed after signing"
    # The signature row itself can never be rewritten or removed.
    with pytest.raises(DatabaseError), transaction.atomic():
        Signature.objects.update(signer_name="Someone else")
    with pytest.raises(DatabaseError), transaction.atomic():
        Signature.objects.all().delete()
    assert Signature.objects.get().signer_name == "Dana Director"


@pytest.mark.django_db
def test_only_a_study_director_approves(study: Study, technician: Any) -> None:
    with pytest.raises(ValidationError) as caught:
        _sign(study, technician)
    assert "meaning" in caught.value.message_dict
    assert (
        signature_services.sign_record(
            record=study, signer=technician, meaning="authored", password=TEST_PASSWORD
        ).meaning
        == "authored"
    )


@pytest.mark.django_db
def test_sign_page_signs_with_the_password_and_tokens_cannot_sign(
    study: Study, director: Any
) -> None:
    url = reverse("sign_record", args=["planner", "study", study.pk])
    anonymous = Client()
    by_token = anonymous.post(
        url,
        {"meaning": "approved", "password": TEST_PASSWORD},
        HTTP_AUTHORIZATION="Token vl_not-a-session",
    )
    assert by_token.status_code == 302 and "/login" in by_token["Location"]
    browser = Client()
    assert browser.login(username=director.get_username(), password=TEST_PASSWORD)
    refused = browser.post(url, {"meaning": "approved", "password": "wrong"})
    assert refused.status_code == 400
    assert "password is not correct" in refused.content.decode()
    assert Signature.objects.count() == 0
    done = browser.post(url, {"meaning": "approved", "password": TEST_PASSWORD})
    assert done.status_code == 302
    assert Signature.objects.get().signer == director
    page = browser.get(reverse("study_detail", args=[study.pk])).content.decode()
    assert "Dana Director" in page and "Approved" in page and "valid" in page


@pytest.mark.django_db
def test_signature_prints_in_the_pdf_with_name_time_and_meaning(
    study: Study, director: Any, tmp_path: Path
) -> None:
    signature = _sign(study, director)
    lines = tuple(
        rm.Signature(
            role=view.role,
            name=view.signer_name,
            signed_at=view.signed_at,
            meaning=view.meaning,
            record=view.signature.record_label,
        )
        for view in signature_services.signatures_for(study)
    )
    report = dataclasses.replace(
        synthetic_study(with_survival=False, with_body_weight=False, with_assays=False),
        signatures=lines,
    )
    text = squash(pdf_text(render_pdf(render_html(report, compute_results(report))), tmp_path))
    stamp = signature.signed_at.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    assert re.search(r"Study director Dana Director Approved", text), text[:2000]
    assert stamp in text


@pytest.mark.django_db
def test_report_input_prints_the_approved_report_signature_and_changes_after_a_lock(
    lab: Any,
) -> None:
    from labnotes.models import Animal
    from labnotes.services import locks as lock_services
    from labnotes.services.report_input import _changes_after_lock, _signature_lines
    from labnotes.services.reports import request_report
    from tests.factories import MembershipFactory, UserFactory
    from tests.security.test_locks import _setup

    design, run, animals = _setup(lab)
    design.director.first_name, design.director.last_name = "Dana", "Director"
    design.director.save()
    report, _ = request_report(run=run, kind="final", requested_by=design.director)
    signature = _sign(report, design.director)
    [line] = _signature_lines(run, design.study, report.data_hash)
    assert (line.role, line.name, line.meaning) == ("Study director", "Dana Director", "Approved")
    assert line.signed_at == signature.signed_at and line.status == ""
    assert _signature_lines(run, design.study, "sha256:other")[0].name != "Dana Director"

    qa: Any = UserFactory()  # type: ignore[no-untyped-call]
    MembershipFactory(user=qa, lab=lab, role="qa")  # type: ignore[no-untyped-call]
    lock = lock_services.lock_run(run=run, by=design.director, reason="final analysis")
    lock_services.release_run_lock(lock=lock, by=design.director, reason="late weight")
    lock_services.release_run_lock(lock=lock, by=qa, reason="agreed")
    assert _changes_after_lock(run) == ()
    Animal.objects.filter(pk=animals[1].pk).update(rfid="R-2")
    [change] = _changes_after_lock(run)
    assert change.text.startswith(f"update of animal #{animals[1].pk} at ")


@pytest.mark.django_db
def test_api_lists_signatures_with_status_and_a_personal_token_cannot_sign(
    study: Study, director: Any
) -> None:
    from rest_framework.test import APIClient

    from planner.services.tenancy import create_personal_token

    _sign(study, director)
    _token, raw = create_personal_token(user=director, name="script")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {raw}")
    url = reverse("signature-list")
    attempt = client.post(
        url,
        {"record": "planner.study", "object_id": study.pk, "meaning": "approved",
         "password": TEST_PASSWORD},
        format="json",
    )  # fmt: skip
    assert attempt.status_code == 405
    assert Signature.objects.count() == 1
    listed = client.get(url, {"record": "planner.study", "object_id": str(study.pk)}).json()
    rows = listed["results"] if isinstance(listed, dict) else listed
    assert [(r["signer_name"], r["meaning"], r["status"]) for r in rows] == [
        ("Dana Director", "approved", "valid")
    ]
    assert "canonical" not in rows[0]
    Study.objects.filter(pk=study.pk).update(title="changed")
    rows = client.get(url, {"record": "planner.study", "object_id": str(study.pk)}).json()
    rows = rows["results"] if isinstance(rows, dict) else rows
    assert rows[0]["status"] == "invalid — record changed after signing"
