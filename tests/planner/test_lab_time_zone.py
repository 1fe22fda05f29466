from __future__ import annotations

import datetime as dt

import pytest

from planner.models import Lab


@pytest.mark.django_db
def test_measurement_lands_on_local_study_day_when_saved_at_half_past_midnight():
    lab = Lab.objects.create(name="Berlin", slug="berlin", time_zone="Europe/Berlin")
    day0 = dt.date(2026, 3, 2)
    # 00:30 in Berlin on 9 March is 23:30 UTC on 8 March: UTC would say day 6, the lab says 7.
    taken_at = dt.datetime(2026, 3, 8, 23, 30, tzinfo=dt.UTC)
    assert taken_at.date() - day0 == dt.timedelta(days=6)
    assert lab.study_day(day0, taken_at) == 7


@pytest.mark.django_db
def test_local_date_refused_when_time_is_naive():
    lab = Lab.objects.create(name="Naive", slug="naive", time_zone="UTC")
    with pytest.raises(ValueError):
        lab.local_date(dt.datetime(2026, 1, 1, 12, 0))


@pytest.mark.django_db
def test_lab_rejects_unknown_time_zone_when_validated():
    from django.core.exceptions import ValidationError

    lab = Lab(name="Nowhere", slug="nowhere", time_zone="Mars/Olympus")
    with pytest.raises(ValidationError) as error:
        lab.full_clean()
    assert "IANA time zone" in str(error.value)
