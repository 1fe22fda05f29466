from __future__ import annotations

import csv
import io

import pytest
from django.test import Client

from planner.audit import audit_context
from planner.audit.search import spreadsheet_safe
from planner.models import Study
from planner.services import studies as study_services
from tests.factories import TEST_PASSWORD


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('=HYPERLINK("x")', '\'=HYPERLINK("x")'),
        ("+1", "'+1"),
        ("-2", "'-2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("plain", "plain"),
        (None, ""),
        (12.5, "12.5"),
    ],
)
def test_cell_is_inert_when_it_would_start_a_formula(value, expected):
    assert spreadsheet_safe(value) == expected


@pytest.mark.django_db
def test_qa_finds_change_by_user_and_study_and_exports_safe_csv(
    lab, scientist, qa_user, study, other_lab
):
    other_study = Study.objects.create(
        lab=other_lab, code="OTHER-1", title="elsewhere", created_by=scientist
    )
    with audit_context(user_id=scientist.pk, username=scientist.username, client="web"):
        study_services.update_study(
            study=study,
            changed_by=scientist,
            expected_version=1,
            reason="=cmd|' /C calc'!A0",
            title="=1+1",
        )
    Study.objects.filter(pk=other_study.pk).update(title="not in this lab")
    client = Client()
    assert client.login(username=qa_user.username, password=TEST_PASSWORD)

    page = client.get("/audit/", {"username": scientist.username, "study": study.code})
    assert page.status_code == 200
    assert b"=1+1" in page.content
    assert b"not in this lab" not in page.content

    export = client.get("/audit/", {"study": study.code, "format": "csv"})
    rows = list(csv.reader(io.StringIO(export.content.decode())))
    header, body = rows[0], rows[1:]
    title_rows = [
        row
        for row in body
        if row[header.index("field")] == "title" and row[header.index("action")] == "update"
    ]
    assert len(title_rows) == 1
    assert title_rows[0][header.index("new")] == "'=1+1"
    assert title_rows[0][header.index("reason")].startswith("'=cmd")
    assert all("not in this lab" not in ",".join(row) for row in body)


@pytest.mark.django_db
def test_audit_search_refused_when_user_is_technician(technician):
    client = Client()
    assert client.login(username=technician.username, password=TEST_PASSWORD)
    assert client.get("/audit/").status_code == 403
