"""Per-kind protocol parameter forms: every kind round-trips through the rendered form, the
domain's messages land beside their inputs, rows are added and removed, stale drafts get 409."""

from __future__ import annotations

import html
from html.parser import HTMLParser
from typing import Any

import pytest
from django.http import QueryDict
from django.template.loader import render_to_string
from django.test import Client
from django.urls import reverse

from planner.demo import DEMO_LIBRARY
from planner.domain.protocol_parameters import ProtocolKind
from planner.models import ProtocolTemplate
from planner.parameter_forms import (
    build_form,
    default_parameters,
    label_for,
    parameters_from_post,
)
from planner.services import protocols
from tests.factories import TEST_PASSWORD


class _FormReader(HTMLParser):
    """What a browser would submit from the rendered inputs (no button pressed)."""

    def __init__(self) -> None:
        super().__init__()
        self.pairs: list[tuple[str, str]] = []
        self.ids: set[str] = set()
        self.controls: set[str] = set()
        self._select: str | None = None
        self._select_value: str | None = None
        self._first_option: str | None = None
        self._textarea: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {key: value or "" for key, value in attrs}
        if "id" in a:
            self.ids.add(a["id"])
            if tag in ("input", "select", "textarea"):
                self.controls.add(a["id"])
        if tag == "input" and "name" in a:
            if a.get("type") == "checkbox":
                if "checked" in a:
                    self.pairs.append((a["name"], a.get("value", "on")))
            else:
                self.pairs.append((a["name"], a.get("value", "")))
        elif tag == "select":
            self._select, self._select_value, self._first_option = a["name"], None, None
        elif tag == "option" and self._select is not None:
            if self._first_option is None:
                self._first_option = a.get("value", "")
            if "selected" in a:
                self._select_value = a.get("value", "")
        elif tag == "textarea":
            self._textarea, self._text = a["name"], []

    def handle_endtag(self, tag: str) -> None:
        if tag == "select" and self._select is not None:
            value = self._select_value if self._select_value is not None else self._first_option
            self.pairs.append((self._select, value or ""))
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            self.pairs.append((self._textarea, "".join(self._text)))
            self._textarea = None

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._text.append(data)


def submitted(kind: str, parameters: dict[str, Any]) -> tuple[QueryDict, set[str]]:
    markup = render_to_string(
        "planner/_parameter_fields.html", {"fields": build_form(kind, parameters).fields}
    )
    reader = _FormReader()
    reader.feed(markup)
    post = QueryDict(mutable=True)
    for name, value in reader.pairs:
        post.appendlist(name, value)
    return post, reader.ids


@pytest.mark.parametrize("name", sorted(DEMO_LIBRARY))
def test_every_demo_protocol_round_trips_through_its_rendered_form(name):
    kind, raw = DEMO_LIBRARY[name]
    stored = protocols.validated_parameters(kind, raw)
    post, _ids = submitted(kind, stored)
    assert protocols.validated_parameters(kind, parameters_from_post(kind, post)) == stored


@pytest.mark.parametrize("kind", [kind.value for kind in ProtocolKind])
def test_every_kind_has_a_form_with_labelled_inputs_named_by_parameter_path(kind):
    markup = render_to_string(
        "planner/_parameter_fields.html",
        {"fields": build_form(kind, default_parameters(kind)).fields},
    )
    reader = _FormReader()
    reader.feed(markup)
    assert reader.pairs, kind
    # every input, select and textarea of the form has its own <label for=…>
    unlabelled = [i for i in reader.controls if f'for="{i}"' not in markup]
    assert not unlabelled, (kind, unlabelled)


def test_labels_carry_units_from_parameter_names():
    form = build_form("randomization", {})
    by_name = {field.name: field for field in form.fields}
    assert (by_name["eligible_volume_min_mm3"].label, by_name["eligible_volume_min_mm3"].unit) == (
        "Eligible volume min",
        "mm³",
    )
    assert by_name["method"].widget == "choice"
    assert [value for value, _ in by_name["covariates"].choices] == [
        "tumour_volume",
        "body_weight",
        "age",
    ]
    dosing = {field.name: field for field in build_form("dosing", {}).fields}
    assert dosing["concentration_mg_per_ml"].unit == "mg/mL"
    assert dosing["volume_ul"].unit == "µL" and dosing["max_volume_ml_per_kg"].unit == "mL/kg"
    assert label_for("reference_body_weight_g") == "Reference body weight"


def test_blank_and_removed_rows_are_dropped_and_rows_renumbered():
    kind, raw = DEMO_LIBRARY["Treg panel CD45/CD3/CD4/CD8/CD25/Foxp3"]
    post, _ids = submitted(kind, protocols.validated_parameters(kind, raw))
    post.appendlist("markers[1]._remove", "1")  # drop CD3
    parsed = parameters_from_post(kind, post)
    assert [m["marker"] for m in parsed["markers"]] == ["CD45", "CD4", "CD8", "CD25", "Foxp3"]
    # the blank "new marker" row the form always offers is not a marker
    assert all(m["marker"] for m in parsed["markers"])


def test_new_score_item_with_levels_is_read_from_the_blank_rows():
    kind, raw = DEMO_LIBRARY["Clinical score sheet with ulceration"]
    post, _ids = submitted(kind, protocols.validated_parameters(kind, raw))
    # The blank item row is items[2], with two blank levels.
    post["items[2].name"] = "Posture"
    post["items[2].levels[0].score"] = "0"
    post["items[2].levels[0].description"] = "normal"
    post["items[2].levels[1].score"] = "1"
    post["items[2].levels[1].description"] = "hunched"
    cleaned = protocols.validated_parameters(kind, parameters_from_post(kind, post))
    assert [item["name"] for item in cleaned["items"]] == ["Activity", "Coat", "Posture"]
    assert cleaned["items"][2]["levels"] == [
        {"score": 0, "description": "normal"},
        {"score": 1, "description": "hunched"},
    ]


# -- pages ----------------------------------------------------------------------------------


def logged_in(user):
    client = Client()
    assert client.login(username=user.username, password=TEST_PASSWORD)
    return client


IMPLANTATION = {
    "name": "CT26 left flank",
    "kind": "implantation",
    "cell_line.name": "CT26.WT",
    "cell_line.rrid": "CVCL_72",
    "cell_line.host_strain": "BALB/c",
    "cells_per_site": "1000000",
    "vehicle": "PBS",
    "volume_ul": "5000",
    "sites": "left flank",
    "route": "SC",
    "viability_min_percent": "90",
}


@pytest.mark.django_db
def test_create_page_shows_each_domain_message_beside_its_input_and_saves_nothing(scientist):
    client = logged_in(scientist)
    chooser = client.get(reverse("protocol_create"))
    assert b"Kind of protocol" in chooser.content
    form = client.get(reverse("protocol_create"), {"kind": "implantation"})
    assert b'id="p-cell_line-rrid"' in form.content and b"Volume (\xc2\xb5L)" in form.content
    response = client.post(reverse("protocol_create"), IMPLANTATION)
    text = html.unescape(response.content.decode())
    assert response.status_code == 200
    rrid_error = text.split('id="p-cell_line-rrid_error"')[1].split("</div>")[0]
    assert "'CVCL_72' is not a Cellosaurus RRID" in rrid_error
    volume_error = text.split('id="p-volume_ul_error"')[1].split("</div>")[0]
    assert "must be at most 1000 µL" in volume_error
    assert 'href="#p-cell_line-rrid"' in text  # the summary links to the input
    assert not ProtocolTemplate.objects.filter(name="CT26 left flank").exists()
    ok = client.post(
        reverse("protocol_create"),
        {**IMPLANTATION, "cell_line.rrid": "CVCL_7256", "volume_ul": "100"},
    )
    assert ok.status_code == 302
    version = ProtocolTemplate.objects.get(name="CT26 left flank").versions.get()
    assert version.parameters["cell_line"]["rrid"] == "CVCL_7256"
    assert version.parameters["sites"] == ["left flank"]
    assert version.parameters["volume_ul"] == 100


@pytest.mark.django_db
def test_add_row_button_adds_a_row_without_saving(scientist):
    client = logged_in(scientist)
    post = {
        "name": "Panel",
        "kind": "flow_panel",
        "markers[0].marker": "CD45",
        "markers[0].fluorochrome": "BV510",
        "markers[0].clone": "30-F11",
        "viability_dye": "Zombie NIR",
        "populations": "Live/CD45+",
        "_add_row": "markers",
    }
    response = client.post(reverse("protocol_create"), post)
    text = response.content.decode()
    assert response.status_code == 200 and not ProtocolTemplate.objects.exists()
    assert 'value="CD45"' in text
    assert 'name="markers[1].marker"' in text and 'name="markers[2].marker"' in text
    del post["_add_row"]
    assert client.post(reverse("protocol_create"), post).status_code == 302


@pytest.mark.django_db
def test_draft_edit_page_answers_409_with_their_values_when_stale(scientist, lab):
    kind, raw = DEMO_LIBRARY["Body weight Mon/Wed/Fri"]
    version = protocols.create_template(
        lab=lab, name="BW", kind=kind, parameters=raw, created_by=scientist
    )
    client = logged_in(scientist)
    url = reverse("protocol_version_edit", args=[version.pk])
    page = client.get(url)
    assert page.status_code == 200 and b'value="Mon/Wed/Fri"' in page.content
    assert b"Saved parameters as JSON" in page.content
    form = {
        "schedule": "Tue/Fri",
        "baseline": "randomization",
        "change_note": "",
        "reason": "rota",
        "row_version": 1,
    }
    assert client.post(url, form).status_code == 302
    stale = client.post(url, {**form, "schedule": "Mon/Thu"})
    assert stale.status_code == 409
    text = stale.content.decode()
    assert "Saved meanwhile by someone else" in text
    assert "<td>Tue/Fri</td><td>Mon/Thu</td>" in text
    version.refresh_from_db()
    assert version.parameters["schedule"] == "Tue/Fri"


@pytest.mark.django_db
def test_json_mode_stays_available_for_pasted_parameters(scientist):
    kind, raw = DEMO_LIBRARY["Body weight Mon/Wed/Fri"]
    import json

    response = logged_in(scientist).post(
        reverse("protocol_create") + "?kind=body_weight&mode=json",
        {"name": "BW json", "kind": kind, "parameters": json.dumps(raw), "mode": "json"},
    )
    assert response.status_code == 302
    assert ProtocolTemplate.objects.get(name="BW json").versions.get().parameters["schedule"] == (
        "Mon/Wed/Fri"
    )
