"""Runs, animal registration (pasted, CSV, XLSX) within ethics limits, cages, implantation."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from labnotes.models import Animal, AnimalStatus, CageAssignment, Implantation, StudyRun, Tumour
from labnotes.services import animals as animal_services
from labnotes.services.runs import start_rechallenge_run, start_study_run
from planner.models import StudyStatus
from tests.labnotes.builders import build_design, tag_rows

pytestmark = pytest.mark.django_db


def test_start_study_run_refused_when_design_is_draft(design):
    design.study.status = StudyStatus.DRAFT
    design.study.save()
    with pytest.raises(ValidationError, match="only an approved or active design"):
        start_study_run(
            study=design.study, code="R1", day0=timezone.localdate(), started_by=design.director
        )
    assert StudyRun.objects.count() == 0


def test_start_study_run_refused_when_user_is_technician(design):
    with pytest.raises(PermissionDenied):
        start_study_run(
            study=design.study, code="R1", day0=timezone.localdate(), started_by=design.technician
        )
    assert StudyRun.objects.count() == 0


def test_start_study_run_refused_when_study_has_no_ethics_protocol(design):
    design.study.ethics_protocol = None
    design.study.save()
    with pytest.raises(ValidationError, match="no ethics protocol"):
        start_study_run(
            study=design.study, code="R1", day0=timezone.localdate(), started_by=design.director
        )


def test_register_animals_keeps_leading_zeros_when_tags_are_pasted(design, run):
    rows = animal_services.parse_pasted_animals("0001\n\n0002\t982000123456789\n007\n")
    animals = animal_services.register_animals(run=run, rows=rows, registered_by=design.technician)
    assert [a.tag for a in animals] == ["0001", "0002", "007"]
    assert Animal.objects.get(tag="0002").rfid == "982000123456789"
    assert set(Animal.objects.values_list("sex", flat=True)) == {"female"}


def test_register_animals_saves_nothing_and_names_the_row_when_one_row_is_bad(design, run):
    rows = tag_rows(5)
    rows[3]["arrival_weight_g"] = "heavy"
    with pytest.raises(ValidationError) as caught:
        animal_services.register_animals(run=run, rows=rows, registered_by=design.technician)
    assert caught.value.message_dict["rows"] == ["row 4, arrival_weight_g: 'heavy' is not a number"]
    assert Animal.objects.count() == 0


def test_preview_animal_rows_lists_every_error_when_several_rows_are_bad(design, run):
    rows = [
        {"tag": "0001", "sex": "female"},
        {"tag": "0001", "sex": "x"},
        {"tag": "", "date_of_birth": "31/31/2020"},
        {
            "tag": "0004",
            "date_of_birth": (timezone.localdate() + dt.timedelta(days=3)).isoformat(),
            "cage": "NOPE",
            "colour": "white",
        },
    ]
    preview = animal_services.preview_animal_rows(run=run, rows=rows)
    found = [(e.row, e.field) for e in preview.errors]
    assert found == [
        (2, "tag"),
        (2, "sex"),
        (3, "tag"),
        (3, "date_of_birth"),
        (4, "date_of_birth"),
        (4, "cage"),
        (4, "colour"),
    ]
    assert "also on row 1" in preview.errors[0].reason
    assert not preview.is_valid
    assert Animal.objects.count() == 0


def test_register_animals_refused_when_beyond_ethics_numbers_counting_excluded_animals(lab):
    design = build_design(lab=lab, approved_animals=12)
    run = start_study_run(
        study=design.study, code="R1", day0=timezone.localdate(), started_by=design.director
    )
    first = animal_services.register_animals(
        run=run, rows=tag_rows(10), registered_by=design.technician
    )
    animal_services.exclude_animal(
        animal=first[0], reason="no tumour take", excluded_by=design.scientist
    )
    with pytest.raises(ValidationError) as caught:
        animal_services.register_animals(
            run=run, rows=tag_rows(3, start=11), registered_by=design.technician
        )
    message = caught.value.message_dict["rows"][0]
    assert message.startswith("row 3, tag: beyond the ethics protocol's approved numbers")
    assert "12 BALB/c, 10 already received, 2 left" in message
    assert Animal.objects.count() == 10
    animal_services.register_animals(
        run=run, rows=tag_rows(2, start=11), registered_by=design.technician
    )
    assert Animal.objects.count() == 12


def test_register_animals_refused_when_ethics_protocol_expired(lab):
    design = build_design(lab=lab, expires_on=timezone.localdate() - dt.timedelta(days=1))
    design.ethics.approved_on = timezone.localdate() - dt.timedelta(days=500)
    design.ethics.save()
    # The study went active while its protocol was valid; the protocol expired since.
    design.study.status = StudyStatus.ACTIVE
    design.study.save()
    run = start_study_run(
        study=design.study, code="R1", day0=timezone.localdate(), started_by=design.director
    )
    with pytest.raises(ValidationError, match="expired on"):
        animal_services.register_animals(run=run, rows=tag_rows(1), registered_by=design.technician)
    assert Animal.objects.count() == 0


def test_register_animals_refused_when_user_is_viewer(design, run):
    with pytest.raises(PermissionDenied):
        animal_services.register_animals(run=run, rows=tag_rows(1), registered_by=design.viewer)


def test_read_animal_file_keeps_leading_zeros_when_xlsx_formats_numbers(design, run):
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["Ear tag", "Sex", "DOB", "Weight (g)"])
    sheet.append([7, "F", dt.date(2025, 1, 2), 18.4])
    sheet["A2"].number_format = "0000"
    sheet.append(["0042", "m", "2025-01-03", 19])
    buffer = io.BytesIO()
    workbook.save(buffer)
    rows = animal_services.read_animal_file(content=buffer.getvalue(), filename="mice.xlsx")
    assert [(r["row"], r["tag"]) for r in rows] == [(2, "0007"), (3, "0042")]
    animals = animal_services.register_animals(run=run, rows=rows, registered_by=design.technician)
    assert [(a.tag, a.sex, str(a.arrival_weight_g)) for a in animals] == [
        ("0007", "female", "18.40"),
        ("0042", "male", "19.00"),
    ]


def test_read_animal_file_names_file_line_when_csv_row_is_bad(design, run):
    content = b"tag,sex,arrival_weight_g\n0001,f,19\n\n0002,f,-3\n"
    rows = animal_services.read_animal_file(content=content, filename="mice.csv")
    preview = animal_services.preview_animal_rows(run=run, rows=rows)
    assert [(e.row, e.field) for e in preview.errors] == [(4, "arrival_weight_g")]


def test_move_animals_keeps_dated_history_and_refuses_full_cage(design, run):
    lab = design.lab
    first = animal_services.create_cage(
        lab=lab, run=run, label="C1", capacity=2, room="R101", created_by=design.technician
    )
    second = animal_services.create_cage(
        lab=lab, run=run, label="C2", capacity=2, created_by=design.technician
    )
    animals = animal_services.register_animals(
        run=run, rows=tag_rows(2, cage="C1"), registered_by=design.technician
    )
    extra = animal_services.register_animals(
        run=run, rows=tag_rows(2, start=3, cage="C2"), registered_by=design.technician
    )
    with pytest.raises(ValidationError, match="no room"):
        animal_services.move_animals(animals=[animals[0]], cage=second, moved_by=design.technician)
    new_cage = animal_services.split_cage(
        cage=first,
        animals=[animals[1]],
        new_label="C1b",
        moved_by=design.technician,
        reason="fighting",
    )
    assert new_cage.room == "R101"
    history = list(CageAssignment.objects.filter(animal=animals[1]).order_by("pk"))
    assert [(h.cage.label, h.to_date is None) for h in history] == [("C1", False), ("C1b", True)]
    assert history[0].to_date == lab.local_date(timezone.now())
    assert animal_services.current_cage(extra[0]).label == "C2"


def test_record_implantation_requires_deviation_when_viability_below_protocol(design, run):
    from planner.models import StudyProcedure
    from tests.labnotes.builders import released_version

    version = released_version(
        design.lab,
        design.director,
        "implantation",
        "CT26 SC",
        {
            "cell_line": {"name": "CT26.WT", "rrid": "CVCL_7256", "host_strain": "BALB/c"},
            "cells_per_site": 500000,
            "vehicle": "PBS",
            "volume_ul": 100,
            "sites": ["right flank"],
            "route": "SC",
            "viability_min_percent": 90,
        },
    )
    StudyProcedure.objects.create(study=design.study, role="implantation", protocol_version=version)
    [animal] = animal_services.register_animals(
        run=run, rows=tag_rows(1), registered_by=design.technician
    )
    with pytest.raises(ValidationError, match="below the protocol's minimum of 90 %"):
        animal_services.record_implantation(
            animal=animal,
            site="right flank",
            implanted_on=run.day0,
            cells=500000,
            operator=design.technician,
            viability_percent=85,
        )
    assert Tumour.objects.count() == 0
    implantation = animal_services.record_implantation(
        animal=animal,
        site="right flank",
        implanted_on=run.day0,
        cells=500000,
        operator=design.technician,
        viability_percent=85,
        passage=4,
        deviations="only one vial thawed",
    )
    assert implantation.protocol_version == version
    assert Implantation.objects.get().tumour.role == "injected"


def test_exclude_animal_keeps_it_with_reason(design, run):
    [animal] = animal_services.register_animals(
        run=run, rows=tag_rows(1), registered_by=design.technician
    )
    with pytest.raises(PermissionDenied):
        animal_services.exclude_animal(animal=animal, reason="x", excluded_by=design.technician)
    excluded = animal_services.exclude_animal(
        animal=animal, reason="tumour ulcerated at staging", excluded_by=design.scientist
    )
    assert (excluded.status, excluded.status_reason) == ("excluded", "tumour ulcerated at staging")
    assert Animal.objects.count() == 1
    with pytest.raises(ValidationError, match="excluded already"):
        animal_services.exclude_animal(animal=animal, reason="again", excluded_by=design.scientist)


def test_rechallenge_run_links_cured_animals_and_does_not_count_them_twice(design, run):
    animals = animal_services.register_animals(
        run=run, rows=tag_rows(3), registered_by=design.technician
    )
    before = animal_services.ethics_allowance(run).used
    child = start_rechallenge_run(
        parent_run=run,
        code="RC-1",
        day0=timezone.localdate(),
        animals=animals[:2],
        started_by=design.director,
    )
    assert child.parent_run == run
    copies = list(Animal.objects.filter(run=child).order_by("tag"))
    assert [(c.tag, c.origin_id) for c in copies] == [(a.tag, a.pk) for a in animals[:2]]
    assert Animal.objects.get(pk=animals[0].pk).status == AnimalStatus.TRANSFERRED
    assert animal_services.ethics_allowance(run).used == before
    from labnotes.selectors import animal_history_chain

    assert [a.run.code for a in animal_history_chain(copies[0])] == ["RUN-1", "RC-1"]


# -- emergency unblinding of one animal ------------------------------------------------------


def _randomized_animal(design, run):
    from labnotes.services.randomization import apply_randomization, preview_randomization
    from tests.labnotes.conftest import stage

    animals = stage(design, run, 8)
    apply_randomization(
        batch=preview_randomization(run=run, requested_by=design.scientist, seed=3, candidates=20),
        applied_by=design.scientist,
    )
    return Animal.objects.select_related("arm", "run__study__lab").get(pk=animals[0].pk)


def test_emergency_unblind_animal_shows_arm_when_veterinarian_or_study_director(design, run):
    from labnotes.models import Unblinding
    from labnotes.services.blinding import emergency_unblind_animal
    from tests.factories import MembershipFactory, UserFactory

    animal = _randomized_animal(design, run)
    vet = UserFactory()
    MembershipFactory(user=vet, lab=design.lab, role="veterinarian")
    shown = emergency_unblind_animal(animal=animal, performed_by=vet, reason="ulcerated tumour")
    assert (shown.arm_code, shown.arm_label) == (animal.arm.code, animal.arm.label)
    assert len(shown.regimen) == animal.arm.regimen_items.count() == 1
    by_director = emergency_unblind_animal(
        animal=animal, performed_by=design.director, reason="vet unreachable, seizure"
    )
    assert by_director.arm_code == animal.arm.code
    events = Unblinding.objects.filter(animal=animal).order_by("pk")
    assert [(e.scope, e.performed_by, e.reason) for e in events] == [
        ("animal", vet, "ulcerated tumour"),
        ("animal", design.director, "vet unreachable, seizure"),
    ]


def test_emergency_unblind_animal_refused_when_technician_scientist_or_other_lab_vet(design, run):
    from labnotes.models import Unblinding
    from labnotes.services.blinding import emergency_unblind_animal
    from tests.factories import LabFactory, MembershipFactory, UserFactory

    animal = _randomized_animal(design, run)
    outsider = UserFactory()
    MembershipFactory(user=outsider, lab=LabFactory(), role="veterinarian")
    for user in (design.technician, design.scientist, design.doser, design.viewer, outsider):
        with pytest.raises(PermissionDenied, match="Only Study director, Veterinarian"):
            emergency_unblind_animal(animal=animal, performed_by=user, reason="curious")
    assert not Unblinding.objects.exists()


def test_emergency_unblind_animal_refused_without_reason(design, run):
    from labnotes.models import Unblinding
    from labnotes.services.blinding import emergency_unblind_animal

    animal = _randomized_animal(design, run)
    with pytest.raises(ValidationError, match="Say why"):
        emergency_unblind_animal(animal=animal, performed_by=design.director, reason="  ")
    assert not Unblinding.objects.exists()


# -- the first run activates the study -------------------------------------------------------


def test_start_study_run_activates_approved_study_with_audited_reason_when_first_run(design):
    from planner.audit.history import history_for

    run = start_study_run(
        study=design.study, code="R1", day0=timezone.localdate(), started_by=design.director
    )
    design.study.refresh_from_db()
    assert design.study.status == StudyStatus.ACTIVE
    change = [
        event
        for event in history_for(design.study)
        if ("status", "approved", "active") in [(c.field, c.old, c.new) for c in event.changes]
    ]
    assert len(change) == 1
    assert change[0].reason == f"first run R1 started (day 0 {run.day0.isoformat()})"
    # a second run (by a scientist, now that the study is active) changes nothing more
    start_study_run(
        study=design.study, code="R2", day0=timezone.localdate(), started_by=design.scientist
    )
    design.study.refresh_from_db()
    assert design.study.status == StudyStatus.ACTIVE
    assert StudyRun.objects.filter(study=design.study).count() == 2


def test_start_study_run_refused_when_scientist_starts_first_run_of_approved_study(design):
    with pytest.raises(PermissionDenied, match="makes the study active"):
        start_study_run(
            study=design.study, code="R1", day0=timezone.localdate(), started_by=design.scientist
        )
    design.study.refresh_from_db()
    assert design.study.status == StudyStatus.APPROVED
    assert StudyRun.objects.count() == 0


def test_start_study_run_refused_and_study_stays_approved_when_ethics_protocol_expired(lab):
    design = build_design(lab=lab, expires_on=timezone.localdate() - dt.timedelta(days=1))
    design.ethics.approved_on = timezone.localdate() - dt.timedelta(days=500)
    design.ethics.save()
    with pytest.raises(ValidationError, match="expired on"):
        start_study_run(
            study=design.study, code="R1", day0=timezone.localdate(), started_by=design.director
        )
    design.study.refresh_from_db()
    assert design.study.status == StudyStatus.APPROVED
    assert StudyRun.objects.count() == 0
