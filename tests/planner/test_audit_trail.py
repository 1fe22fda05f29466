"""The audit trail records every write path and cannot itself be changed."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import DatabaseError, connection, transaction

from planner.audit import audit_context
from planner.audit.history import history_for
from planner.models import Study
from planner.services import studies as study_services


@pytest.mark.django_db
def test_queryset_update_is_recorded_when_bypassing_the_model(study):
    with audit_context(username="bulk-script", client="command", reason="fix typo"):
        Study.objects.filter(pk=study.pk).update(title="Renamed by update()")

    last = history_for(study)[-1]
    assert last.action == "update"
    assert [(c.field, c.old, c.new) for c in last.changes if c.field == "title"] == [
        ("title", study.title, "Renamed by update()")
    ]
    assert last.who == "bulk-script"
    assert last.reason == "fix typo"


@pytest.mark.django_db
def test_raw_sql_change_is_recorded_when_no_orm_is_involved(study):
    with connection.cursor() as cursor:
        cursor.execute("UPDATE planner_study SET objective = %s WHERE id = %s", ["raw", study.pk])

    last = history_for(study)[-1]
    assert last.action == "update"
    assert ("objective", "", "raw") in [(c.field, c.old, c.new) for c in last.changes]


@pytest.mark.django_db
@pytest.mark.parametrize("statement", ["UPDATE {table} SET pgh_label = 'x'", "DELETE FROM {table}"])
def test_audit_event_cannot_be_changed_when_updating_or_deleting(study, statement):
    table = Study.pgh_event_models["insert"]._meta.db_table
    assert Study.pgh_event_models["insert"].objects.filter(pgh_obj_id=study.pk).count() == 1
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement.format(table=table))
    assert Study.pgh_event_models["insert"].objects.filter(pgh_obj_id=study.pk).count() == 1


@pytest.mark.django_db
def test_service_refuses_and_writes_nothing_when_reason_missing(study, scientist):
    before = len(history_for(study))
    with pytest.raises(ValidationError) as error:
        study_services.update_study(
            study=study,
            changed_by=scientist,
            expected_version=study.row_version,
            reason="  ",
            title="New title",
        )
    assert "reason" in error.value.message_dict
    study.refresh_from_db()
    assert study.title != "New title"
    assert study.row_version == 1
    assert len(history_for(study)) == before


@pytest.mark.django_db
def test_service_change_records_who_old_new_and_why_when_reason_given(study, scientist):
    with audit_context(user_id=scientist.pk, username=scientist.username, client="web"):
        study_services.update_study(
            study=study,
            changed_by=scientist,
            expected_version=1,
            reason="sponsor asked",
            title="Better title",
        )
    last = history_for(study)[-1]
    assert last.who == scientist.username
    assert last.client == "web"
    assert last.reason == "sponsor asked"
    changed = {c.field: (c.old, c.new) for c in last.changes}
    assert changed["title"][1] == "Better title"
    assert changed["row_version"] == (1, 2)


@pytest.mark.django_db
def test_reason_does_not_leak_onto_later_write_when_same_request(study, scientist):
    with audit_context(username=scientist.username):
        study_services.update_study(
            study=study,
            changed_by=scientist,
            expected_version=1,
            reason="first reason",
            title="One",
        )
        Study.objects.filter(pk=study.pk).update(objective="later")
    entries = history_for(study)
    assert entries[-2].reason == "first reason"
    assert entries[-1].reason == ""


@pytest.mark.django_db
def test_event_times_follow_statement_order_when_in_one_transaction(study):
    with transaction.atomic():
        Study.objects.filter(pk=study.pk).update(title="A")
        Study.objects.filter(pk=study.pk).update(title="B")
    entries = history_for(study)
    assert entries[-2].at < entries[-1].at
    assert [c.new for c in entries[-1].changes if c.field == "title"] == ["B"]
