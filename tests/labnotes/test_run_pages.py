"""The run pages through Django's test client: runs, registration, cages, staging,
randomization, Today, worksheets, cage cards and the iCal feed."""

from __future__ import annotations

import datetime as dt
import subprocess
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from labnotes.models import (
    Animal,
    BatchStatus,
    Measurement,
    RandomizationBatch,
    Task,
    TaskKind,
    Unblinding,
)
from labnotes.services.animals import create_cage, move_animals
from labnotes.services.prints import dose_volume_ul
from labnotes.services.randomization import apply_randomization, preview_randomization
from tests.factories import TEST_PASSWORD
from tests.labnotes.builders import SENTINEL_DOSE, SENTINEL_LABEL
from tests.labnotes.conftest import stage
from tests.support.requirements import require_executable

pytestmark = pytest.mark.django_db


def client_for(user: Any) -> Client:
    client = Client()
    assert client.login(username=user.get_username(), password=TEST_PASSWORD)
    return client


def pdf_text(content: bytes, tmp_path: Any) -> str:
    executable = require_executable("pdftotext", "apt-get install poppler-utils")
    path = tmp_path / "document.pdf"
    path.write_bytes(content)
    return subprocess.run(
        [executable, "-layout", str(path), "-"], check=True, capture_output=True, text=True
    ).stdout


def randomized(design: Any, run: Any, count: int = 40) -> list[Any]:
    """Stage ``count`` animals in cages of 5 and apply a seeded balance randomization."""
    animals = stage(design, run, count, weights=True)
    for index in range(0, count, 5):
        cage = create_cage(
            lab=design.lab,
            run=run,
            label=f"C{index // 5 + 1}",
            created_by=design.technician,
            room="R101",
            rack="A",
        )
        move_animals(animals=animals[index : index + 5], cage=cage, moved_by=design.technician)
    batch = preview_randomization(run=run, requested_by=design.scientist, seed=11)
    apply_randomization(batch=batch, applied_by=design.scientist)
    return animals


def _task_day(run: Any, kind: str = TaskKind.MEASURE) -> dt.date:
    task = Task.objects.filter(run=run, kind=kind).order_by("scheduled_date").first()
    assert task is not None
    return task.date


# -- dose volume (the small service the dosers' copy relies on) --------------------------------


def test_dose_volume_is_mg_per_kg_times_kg_over_concentration_when_per_kg() -> None:
    # 10 mg/kg × 0.020 kg ÷ 1 mg/mL = 0.2 mL = 200 µL
    assert dose_volume_ul(
        dose=Decimal("10"),
        dose_basis="per_kg_own_weight",
        weight_g=Decimal("20"),
        concentration_mg_per_ml=1.0,
    ) == Decimal("200.0")
    # without a concentration but with 10 mL/kg: 10 × 0.0195 kg = 0.195 mL
    assert dose_volume_ul(
        dose=Decimal("5"),
        dose_basis="per_kg_own_weight",
        weight_g=Decimal("19.5"),
        volume_ml_per_kg=10.0,
    ) == Decimal("195.0")


def test_dose_volume_is_the_fixed_volume_when_fixed_and_none_without_weight() -> None:
    assert dose_volume_ul(
        dose=Decimal("1"), dose_basis="fixed_per_tumour", weight_g=None, fixed_volume_ul=20
    ) == Decimal("20.0")
    assert (
        dose_volume_ul(
            dose=Decimal("10"),
            dose_basis="per_kg_own_weight",
            weight_g=None,
            concentration_mg_per_ml=1.0,
        )
        is None
    )


# -- runs --------------------------------------------------------------------------------------


def test_start_run_form_creates_a_run_when_scientist_posts_for_active_study(design: Any) -> None:
    client = client_for(design.scientist)
    url = reverse("study_runs", kwargs={"pk": design.study.pk})
    first = client.post(url, {"code": "RUN-7", "day0": "2026-01-05"})
    assert first.status_code == 200
    assert "makes the study active" in first.content.decode()
    assert not design.study.runs.exists()
    director = client_for(design.director).post(url, {"code": "RUN-6", "day0": "2026-01-05"})
    assert director.status_code == 302
    design.study.refresh_from_db()
    assert design.study.status == "active"
    response = client.post(url, {"code": "RUN-7", "day0": "2026-01-05"})
    assert response.status_code == 302
    assert design.study.runs.filter(code="RUN-7").exists()
    page = client.get(url)
    assert b"RUN-7" in page.content


def test_run_detail_shows_labels_and_counts_only_when_unblinded(design: Any, run: Any) -> None:
    randomized(design, run)
    url = reverse("run_detail", kwargs={"pk": run.pk})
    scientist = client_for(design.scientist).get(url)
    technician = client_for(design.technician).get(url)
    assert scientist.status_code == technician.status_code == 200
    assert SENTINEL_LABEL.encode() in scientist.content
    assert b"arms-caption" in scientist.content
    assert SENTINEL_LABEL.encode() not in technician.content
    assert b"arms-caption" not in technician.content
    # the blinded technician sees each animal's arm code
    animal = Animal.objects.filter(run=run, arm__isnull=False).select_related("arm").first()
    assert f"<td>{animal.arm.code}</td>".encode() in technician.content
    assert b"Randomize" not in technician.content


# -- registration ----------------------------------------------------------------------------


def test_registration_preview_names_the_bad_row_and_saves_nothing(design: Any, run: Any) -> None:
    client = client_for(design.technician)
    url = reverse("animal_register", kwargs={"pk": run.pk})
    response = client.post(url, {"tags": "0001\n0002\n0001\n0004", "action": "preview"})
    assert response.status_code == 200
    content = response.content.decode()
    assert "1 problem: nothing was saved" in content
    assert (
        '<th scope="row" class="num">3</th><td>tag</td><td>&#x27;0001&#x27; is also on row 1'
        in content
    )
    assert Animal.objects.filter(run=run).count() == 0
    assert 'value="register"' not in content  # no confirm button while a row is bad


def test_registration_confirm_saves_all_rows_with_leading_zeros(design: Any, run: Any) -> None:
    client = client_for(design.technician)
    url = reverse("animal_register", kwargs={"pk": run.pk})
    preview = client.post(url, {"tags": "0001\n0002,RF-9\n0003", "action": "preview"})
    assert b"All 3 rows are valid" in preview.content
    assert Animal.objects.filter(run=run).count() == 0
    rows_json = preview.context["rows_json"]
    saved = client.post(url, {"action": "register", "rows_json": rows_json})
    assert saved.status_code == 302
    assert sorted(Animal.objects.filter(run=run).values_list("tag", flat=True)) == [
        "0001",
        "0002",
        "0003",
    ]
    assert Animal.objects.get(run=run, tag="0002").rfid == "RF-9"


def test_registration_from_csv_file_lists_every_bad_row(design: Any, run: Any) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    csv = b"tag,sex,arrival_weight_g\n0001,female,19\n,female,19\n0003,dragon,500\n"
    response = client_for(design.technician).post(
        reverse("animal_register", kwargs={"pk": run.pk}),
        {"file": SimpleUploadedFile("animals.csv", csv, "text/csv"), "action": "preview"},
    )
    errors = response.context["preview"].errors
    assert {(e.row, e.field) for e in errors} >= {(3, "tag"), (4, "sex"), (4, "arrival_weight_g")}
    assert Animal.objects.filter(run=run).count() == 0


# -- cages -------------------------------------------------------------------------------------


def test_cage_pages_create_move_split_and_print_a_card(
    design: Any, run: Any, tmp_path: Any
) -> None:
    stage(design, run, 4)
    client = client_for(design.technician)
    created = client.post(
        reverse("run_cages", kwargs={"pk": run.pk}),
        {"label": "K1", "capacity": 5, "room": "R101", "rack": "B", "position": "2"},
    )
    assert created.status_code == 302
    cage = run.cages.get(label="K1")
    moved = client.post(
        reverse("cage_move", kwargs={"pk": cage.pk}), {"tags": "0001\n0002\n0003", "reason": ""}
    )
    assert moved.status_code == 302
    split = client.post(
        reverse("cage_split", kwargs={"pk": cage.pk}),
        {"split-tags": "0003", "split-new_label": "K2", "split-reason": "fighting"},
    )
    assert split.status_code == 302
    assert run.cages.get(label="K2").assignments.filter(to_date__isnull=True).count() == 1
    card = client.get(reverse("cage_card", kwargs={"pk": cage.pk}))
    assert card["Content-Type"] == "application/pdf"
    text = pdf_text(card.content, tmp_path)
    assert "K1" in text and "0001" in text and "0002" in text and "0003" not in text
    assert design.ethics.number in text
    thermal = client.get(reverse("run_cage_cards", kwargs={"pk": run.pk}) + "?size=thermal_label")
    assert "K2" in pdf_text(thermal.content, tmp_path)


# -- staging -----------------------------------------------------------------------------------


def test_staging_entry_records_volume_and_weight_through_the_service(design: Any, run: Any) -> None:
    stage(design, run, 2)
    client = client_for(design.technician)
    url = reverse("run_staging", kwargs={"pk": run.pk})
    before = Measurement.objects.count()
    response = client.post(
        url,
        {
            "tag": "0002",
            "length_mm": "8",
            "width_mm": "5",
            "weight_g": "20.5",
            "reason": "re-measured",
        },
    )
    assert response.status_code == 302, response.context["form"].errors
    assert Measurement.objects.count() == before + 2
    caliper = Measurement.objects.filter(animal__tag="0002", kind="caliper").latest("pk")
    assert caliper.volume_mm3 == Decimal("100.00")  # 8 × 5² / 2
    page = client.get(url)
    assert b"100.00" in page.content
    # a second reading the same day needs a reason (the service refuses it otherwise)
    repeat = client.post(url, {"tag": "0002", "weight_g": "20.6"})
    assert repeat.status_code == 200 and b"reason" in repeat.content
    bad = client.post(url, {"tag": "9999", "length_mm": "8", "width_mm": "5"})
    assert bad.status_code == 200 and b"No animal of this run has tag 9999" in bad.content
    assert Measurement.objects.count() == before + 2


def test_staging_exclusion_keeps_the_animal_with_its_reason(design: Any, run: Any) -> None:
    animals = stage(design, run, 2)
    response = client_for(design.scientist).post(
        reverse("animal_exclude", kwargs={"pk": animals[0].pk}), {"reason": "ulcerated at staging"}
    )
    assert response.status_code == 302
    animals[0].refresh_from_db()
    assert animals[0].status == "excluded" and animals[0].status_reason == "ulcerated at staging"


# -- randomization -----------------------------------------------------------------------------


def test_randomization_preview_and_apply_through_the_pages(design: Any, run: Any) -> None:
    stage(design, run, 40)
    client = client_for(design.scientist)
    preview = client.post(
        reverse("run_randomize", kwargs={"pk": run.pk}), {"method": "balance", "seed": "42"}
    )
    assert preview.status_code == 302
    batch = RandomizationBatch.objects.get(run=run, status=BatchStatus.PREVIEWED)
    assert batch.seed == 42
    page = client.get(preview["Location"])
    content = page.content.decode()
    assert "Largest SMD" in content and "One-way ANOVA p" in content
    for code in ("G1", "G2", "G3", "G4"):
        assert f'<th scope="row">{code} ' in content
    assert Animal.objects.filter(run=run, arm__isnull=False).count() == 0
    applied = client.post(reverse("batch_apply", kwargs={"pk": batch.pk}))
    assert applied.status_code == 302
    batch.refresh_from_db()
    assert batch.status == BatchStatus.APPLIED
    assert Animal.objects.filter(run=run, arm__isnull=False).count() == 40
    voided = client.post(reverse("batch_void", kwargs={"pk": batch.pk}), {"reason": "wrong cohort"})
    assert voided.status_code == 302
    batch.refresh_from_db()
    assert batch.status == BatchStatus.VOIDED and batch.void_reason == "wrong cohort"


def test_randomization_pages_refuse_a_blinded_technician(design: Any, run: Any) -> None:
    stage(design, run, 4)
    client = client_for(design.technician)
    assert client.get(reverse("run_randomize", kwargs={"pk": run.pk})).status_code == 403
    assert (
        client.post(
            reverse("run_randomize", kwargs={"pk": run.pk}), {"method": "simple"}
        ).status_code
        == 403
    )
    assert not RandomizationBatch.objects.filter(run=run).exists()


# -- today, worksheet, iCal --------------------------------------------------------------------


def test_today_lists_due_tasks_without_dose_tasks_for_a_non_doser(design: Any, run: Any) -> None:
    randomized(design, run)
    dose_day = _task_day(run, TaskKind.DOSE)
    url = reverse("today") + f"?day={dose_day.isoformat()}"
    technician = client_for(design.technician).get(url)
    doser = client_for(design.doser).get(url)
    assert technician.status_code == doser.status_code == 200
    assert not any(r["task"].kind == TaskKind.DOSE for r in technician.context["due"])
    assert any(r["task"].kind == TaskKind.DOSE for r in doser.context["due"])
    assert b"dosers\xe2\x80\x99 copy" in doser.content
    assert b"dosers\xe2\x80\x99 copy" not in technician.content


def test_today_marks_a_task_done_and_lists_it_under_done(design: Any, run: Any) -> None:
    randomized(design, run)
    task = Task.objects.filter(run=run, kind=TaskKind.MEASURE).order_by("scheduled_date").first()
    client = client_for(design.technician)
    response = client.post(reverse("task_complete", kwargs={"pk": task.pk}))
    assert response.status_code == 302
    page = client.get(reverse("today") + f"?day={task.date.isoformat()}")
    assert task.pk in [r["task"].pk for r in page.context["done"]]
    assert task.pk not in [r["task"].pk for r in page.context["due"]]


def test_worksheet_pdf_reads_back_with_codes_tags_and_no_dose_for_non_dosers(
    design: Any, run: Any, tmp_path: Any
) -> None:
    randomized(design, run)
    day = _task_day(run, TaskKind.DOSE)
    url = reverse("run_worksheet_pdf", kwargs={"pk": run.pk}) + f"?day={day.isoformat()}"
    response = client_for(design.technician).get(url)
    assert response["Content-Type"] == "application/pdf"
    text = pdf_text(response.content, tmp_path)
    assert "0001" in text and "0040" in text and "C1" in text and "G1" in text
    assert "Dose" not in text and "DOSERS" not in text and SENTINEL_LABEL not in text
    # the dosers' copy is refused to the technician, given to the doser with volumes
    assert client_for(design.technician).get(url + "&copy=dosers").status_code == 403
    doser = client_for(design.doser).get(url + "&copy=dosers")
    assert "DOSERS" in pdf_text(doser.content, tmp_path)


def test_worksheet_dosers_copy_prints_the_computed_volume(
    design: Any, run: Any, tmp_path: Any
) -> None:
    randomized(design, run)
    from planner.models import RegimenItem
    from tests.labnotes.builders import released_version

    # concentration 2 mg/mL: 10 mg/kg × ~0.02 kg ÷ 2 mg/mL ≈ 100 µL
    dosing = released_version(
        design.lab,
        design.director,
        "dosing",
        "Dosing 2 mg/mL",
        {
            "agent": "x",
            "vehicle": "PBS",
            "concentration_mg_per_ml": 2.0,
            "dose_basis": "per_kg_own_weight",
            "route": "IP",
            "volume_ml_per_kg": 5.0,
        },
    )
    RegimenItem.objects.filter(arm__study=design.study).update(protocol_version=dosing)
    task = (
        Task.objects.filter(run=run, kind=TaskKind.DOSE, animal__arm__code="G1")
        .order_by("scheduled_date")
        .first()
    )
    weight = (
        Measurement.objects.filter(animal=task.animal, kind="weight").latest("taken_at").weight_g
    )
    expected = dose_volume_ul(
        dose=Decimal("10"), dose_basis="mg_per_kg", weight_g=weight, concentration_mg_per_ml=2.0
    )
    url = (
        reverse("run_worksheet", kwargs={"pk": run.pk})
        + f"?day={task.date.isoformat()}&copy=dosers"
    )
    html = client_for(design.doser).get(url).content.decode()
    assert f"{expected:.1f}" in html
    plain = client_for(design.technician).get(url.replace("&copy=dosers", "")).content.decode()
    assert f"{expected:.1f}" not in plain and "Dose" not in plain


def test_worksheet_print_view_style_carries_the_csp_nonce(design: Any, run: Any) -> None:
    randomized(design, run, count=8)
    response = client_for(design.technician).get(reverse("run_worksheet", kwargs={"pk": run.pk}))
    assert response.status_code == 200
    assert b"<style nonce=" in response.content and b"<style>" not in response.content


def test_ical_feed_parses_back_with_the_persons_tasks_only(design: Any, run: Any) -> None:
    from icalendar import Calendar

    randomized(design, run, count=8)
    feeds = {}
    for name in ("technician", "doser"):
        client = client_for(getattr(design, name))
        page = client.post(reverse("calendar_feed_settings"))
        feeds[name] = page.context["feed_url"]
    anonymous = Client()
    tech = Calendar.from_ical(anonymous.get(feeds["technician"]).content)
    doser = Calendar.from_ical(anonymous.get(feeds["doser"]).content)
    tech_events = tech.walk("VEVENT")
    assert tech_events and all(not str(e["SUMMARY"]).startswith("Dose") for e in tech_events)
    assert any(str(e["SUMMARY"]).startswith("Dose") for e in doser.walk("VEVENT"))
    body = anonymous.get(feeds["technician"]).content.decode()
    assert SENTINEL_DOSE not in body and SENTINEL_LABEL not in body
    # only a hash is stored, and a new link revokes the old one
    from labnotes.models import CalendarFeedToken

    token = feeds["technician"].rstrip("/").split("/")[-2]
    assert not CalendarFeedToken.objects.filter(token_hash=token).exists()
    client_for(design.technician).post(reverse("calendar_feed_settings"))
    assert anonymous.get(feeds["technician"]).status_code == 404
    assert anonymous.get("/feeds/not-a-token/tasks.ics").status_code == 404


# -- unblinding --------------------------------------------------------------------------------


def test_study_unblinding_needs_the_directors_password(design: Any, run: Any) -> None:
    client = client_for(design.director)
    url = reverse("study_unblind", kwargs={"pk": design.study.pk})
    wrong = client.post(url, {"password": "nope", "reason": "final analysis"})
    assert wrong.status_code == 200 and not Unblinding.objects.exists()
    right = client.post(url, {"password": TEST_PASSWORD, "reason": "final analysis"})
    assert right.status_code == 302
    assert Unblinding.objects.get(study=design.study).scope == "study"
    assert client_for(design.technician).get(url).status_code == 403


def test_emergency_unblinding_shows_the_arm_once_and_records_it(design: Any, run: Any) -> None:
    from tests.factories import MembershipFactory, UserFactory

    animals = randomized(design, run, count=8)
    animal = Animal.objects.select_related("arm").get(pk=animals[0].pk)
    vet = UserFactory()
    MembershipFactory(user=vet, lab=design.lab, role="veterinarian")
    client = client_for(vet)
    url = reverse("animal_unblind", kwargs={"pk": animal.pk})
    detail = client.get(reverse("animal_detail", kwargs={"pk": animal.pk})).content
    assert url.encode() in detail and animal.arm.label.encode() not in detail
    assert animal.arm.label.encode() not in client.get(url).content
    shown = client.post(url, {"reason": "vet: severe weight loss"})
    assert animal.arm.label.encode() in shown.content
    assert Unblinding.objects.filter(animal=animal, scope="animal").count() == 1
    assert Unblinding.objects.get(animal=animal).performed_by == vet
    assert (
        animal.arm.label.encode()
        not in client.get(reverse("animal_detail", kwargs={"pk": animal.pk})).content
    )


def test_emergency_unblinding_refused_when_technician_or_scientist(design: Any, run: Any) -> None:
    animal = randomized(design, run, count=8)[0]
    url = reverse("animal_unblind", kwargs={"pk": animal.pk})
    for user in (design.technician, design.scientist):
        client = client_for(user)
        assert client.get(url).status_code == 403
        assert client.post(url, {"reason": "curious"}).status_code == 403
    detail = client_for(design.technician).get(reverse("animal_detail", kwargs={"pk": animal.pk}))
    assert url.encode() not in detail.content
    assert not Unblinding.objects.exists()


# -- implantation and re-challenge pages -------------------------------------------------------


def _implantation_protocol(design: Any, sites: list[str]) -> None:
    from planner.models import StudyProcedure
    from tests.labnotes.builders import released_version

    StudyProcedure.objects.create(
        study=design.study,
        role="implantation",
        protocol_version=released_version(
            design.lab,
            design.director,
            "implantation",
            "CT26 SC",
            {
                "cell_line": {"name": "CT26.WT", "rrid": "CVCL_7256", "host_strain": "BALB/c"},
                "cells_per_site": 500000,
                "vehicle": "PBS",
                "volume_ul": 100,
                "sites": sites,
                "route": "SC",
                "viability_min_percent": 90,
                "passage_limit": 10,
            },
        ),
    )


def test_implantation_page_records_bilateral_sites_for_chosen_animals(
    design: Any, run: Any
) -> None:
    from labnotes.models import Implantation
    from labnotes.services.animals import register_animals
    from tests.labnotes.builders import tag_rows

    _implantation_protocol(design, ["right flank", "left flank"])
    animals = register_animals(run=run, rows=tag_rows(6), registered_by=design.technician)
    client = client_for(design.technician)
    url = reverse("run_implantation", kwargs={"pk": run.pk})
    page = client.get(url).content.decode()
    assert "CVCL_7256" in page and "bilateral" in page
    assert 'value="left flank"' in page and 'value="500000"' in page
    chosen = [a.pk for a in animals[:4]]
    body = {
        "animals": chosen,
        "implanted_on": run.day0.isoformat(),
        "operator": design.technician.pk,
        "cells": 500000,
        "viability_percent": "95",
        "passage": 4,
        "site_1": "right flank",
        "role_1": "injected",
        "site_2": "left flank",
        "role_2": "contralateral",
        "deviations": "",
    }
    response = client.post(url, body)
    assert response.status_code == 302
    records = Implantation.objects.filter(tumour__animal__run=run)
    assert records.count() == 8
    assert {(r.tumour.site, r.tumour.role) for r in records} == {
        ("right flank", "injected"),
        ("left flank", "contralateral"),
    }
    assert set(records.values_list("tumour__animal_id", flat=True)) == set(chosen)
    again = client.post(url, body)
    assert again.status_code == 200
    assert "already has a tumour at the right flank" in again.content.decode()
    assert records.count() == 8


def test_implantation_page_requires_deviation_text_when_viability_below_protocol(
    design: Any, run: Any
) -> None:
    from labnotes.models import Implantation
    from labnotes.services.animals import register_animals
    from tests.labnotes.builders import tag_rows

    _implantation_protocol(design, ["right flank"])
    animals = register_animals(run=run, rows=tag_rows(3), registered_by=design.technician)
    client = client_for(design.technician)
    url = reverse("run_implantation", kwargs={"pk": run.pk})
    body = {
        "animals": [a.pk for a in animals],
        "implanted_on": run.day0.isoformat(),
        "operator": design.technician.pk,
        "cells": 500000,
        "viability_percent": "82",
        "passage": 12,
        "site_1": "right flank",
        "role_1": "injected",
        "site_2": "",
        "role_2": "contralateral",
        "deviations": "",
    }
    refused = client.post(url, body).content.decode()
    assert "viability 82 % is below the protocol&#x27;s minimum of 90 %" in refused
    assert "passage 12 is above the protocol&#x27;s limit of 10" in refused
    assert Implantation.objects.count() == 0
    body["deviations"] = "only vial left; PI approved"
    assert client.post(url, body).status_code == 302
    assert Implantation.objects.count() == 3
    page = client.get(url).content.decode()
    assert page.count("Deviation</span>") == 3 and "only vial left" in page


def test_rechallenge_page_starts_linked_run_and_new_run_links_each_history(
    design: Any, run: Any
) -> None:
    from labnotes.models import StudyRun
    from labnotes.services.animals import register_animals
    from tests.labnotes.builders import tag_rows

    cured = randomized(design, run, count=8)[:3]
    client = client_for(design.director)
    url = reverse("run_rechallenge", kwargs={"pk": run.pk})
    assert cured[0].tag in client.get(url).content.decode()
    response = client.post(
        url,
        {"code": "RUN-1-RC", "day0": run.day0.isoformat(), "animals": [a.pk for a in cured]},
    )
    child = StudyRun.objects.get(code="RUN-1-RC")
    assert response.status_code == 302
    assert response["Location"] == reverse("animal_register", kwargs={"pk": child.pk})
    assert child.parent_run == run
    assert Animal.objects.filter(run=child, origin__isnull=False).count() == 3
    register_animals(run=child, rows=tag_rows(2, start=900), registered_by=design.technician)
    page = client.get(reverse("run_detail", kwargs={"pk": child.pk})).content.decode()
    for animal in cured:
        assert reverse("animal_detail", kwargs={"pk": animal.pk}) in page
    assert page.count("Naive control") == 2
    assert f"Cured in {run.code}" in page
    # the cured animals left the parent run's list of candidates
    again = client.get(url).content.decode()
    assert f'value="{cured[0].pk}"' not in again and "RUN-1-RC" in again


def test_rechallenge_page_refuses_animal_of_another_run(design: Any, run: Any) -> None:
    from labnotes.models import StudyRun

    randomized(design, run, count=4)
    client = client_for(design.director)
    response = client.post(
        reverse("run_rechallenge", kwargs={"pk": run.pk}),
        {"code": "RC", "day0": run.day0.isoformat(), "animals": [999999]},
    )
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert not StudyRun.objects.filter(code="RC").exists()
