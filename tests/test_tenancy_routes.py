"""Walk every registered route as a member of another lab: nothing of lab A is reachable.

Routes whose URL takes an object id must be described in ``OBJECT_ROUTES`` (pages) or be DRF
routes (the model is read from the serializer). A new route that is neither fails this test,
so every later route is covered.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pghistory.models
import pytest
from django.test import Client
from django.urls import NoReverseMatch, URLPattern, URLResolver, get_resolver, reverse
from django.urls.resolvers import RoutePattern

from labnotes.models import BackgroundJob
from labnotes.models.jobs import JobKind
from planner.models import Lab, Membership, OutboundMessage, Study, StudyMember
from tests.factories import TEST_PASSWORD

# Page routes taking ids: URL name → function(objects) → kwargs for an object of lab A.
OBJECT_ROUTES: dict[str, Callable[[dict[type, Any]], dict[str, Any]]] = {
    "study_detail": lambda objs: {"pk": objs[Study].pk},
    "study_edit": lambda objs: {"pk": objs[Study].pk},
    "job_detail": lambda objs: {"pk": objs[BackgroundJob].pk},
    "object_history": lambda objs: {"app_label": "planner", "model_name": "study", "pk": objs[Study].pk},
}
# Routes with ids that are not lab data (Django admin and auth internals).
IGNORED_PREFIXES = ("admin:", "password_reset_confirm")


def _walk(resolver: URLResolver, prefix: str = "", namespace: str = "") -> Iterator[tuple[str, URLPattern, str]]:
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            ns = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _walk(entry, prefix + str(entry.pattern), ns)
        else:
            yield f"{namespace}{entry.name}" if entry.name else "", entry, prefix + str(entry.pattern)


def _drf_model(pattern: URLPattern) -> type | None:
    cls = getattr(pattern.callback, "cls", None)
    if cls is None or not hasattr(cls, "get_serializer_class"):
        return None
    serializer = getattr(cls, "serializer_class", None)
    meta = getattr(serializer, "Meta", None)
    return getattr(meta, "model", None)


@pytest.fixture
def lab_a_objects(lab, scientist) -> dict[type, Any]:
    study = Study.objects.create(lab=lab, code="SECRET-A", title="Lab A secret study", created_by=scientist)
    member = StudyMember.objects.create(study=study, user=scientist, unblinded=True)
    job = BackgroundJob.objects.create(lab=lab, kind=JobKind.SELF_TEST, requested_by=scientist)
    message = OutboundMessage.objects.create(
        lab=lab, recipient=scientist, to_address="a@example.org", subject="Lab A alert",
        body="secret", reason="test",
    )
    return {
        Lab: lab, Study: study, StudyMember: member, BackgroundJob: job, OutboundMessage: message,
        Membership: Membership.objects.get(user=scientist, lab=lab),
    }


def _event_count() -> int:
    return pghistory.models.Events.objects.count()


@pytest.mark.django_db
def test_no_route_reveals_or_changes_lab_a_objects_when_user_is_from_lab_b(lab_a_objects, outsider):
    client = Client()
    assert client.login(username=outsider.username, password=TEST_PASSWORD)
    events_before = _event_count()
    unmapped: list[str] = []
    leaks: list[str] = []
    checked = 0
    for name, pattern, route in _walk(get_resolver()):
        converters = pattern.pattern.converters if isinstance(pattern.pattern, RoutePattern) else {}
        regex_groups = pattern.pattern.regex.groupindex
        if not converters and not regex_groups:
            continue
        if name.startswith(IGNORED_PREFIXES) or route.startswith("admin/") or "format" in regex_groups:
            continue
        model = _drf_model(pattern)
        if name in OBJECT_ROUTES:
            kwargs = OBJECT_ROUTES[name](lab_a_objects)
        elif model is not None and model in lab_a_objects:
            kwargs = {"pk": lab_a_objects[model].pk}
        else:
            unmapped.append(f"{name} ({route})")
            continue
        try:
            path = reverse(name, kwargs=kwargs)
        except NoReverseMatch:
            unmapped.append(f"{name} ({route}): cannot reverse with {kwargs}")
            continue
        for method in ("get", "post", "put", "patch", "delete"):
            response = getattr(client, method)(path, content_type="application/json", data={} if method != "get" else None)
            checked += 1
            if response.status_code not in {404, 405}:
                leaks.append(f"{method.upper()} {path} → {response.status_code}")
            elif b"SECRET-A" in response.content or b"Lab A" in response.content:
                leaks.append(f"{method.upper()} {path} shows lab A data")
    assert not unmapped, f"routes with ids not covered by this test: {unmapped}"
    assert not leaks, leaks
    assert checked >= 40
    assert _event_count() == events_before


@pytest.mark.django_db
def test_lists_and_exports_exclude_lab_a_when_user_is_from_lab_b(lab_a_objects, outsider):
    client = Client()
    assert client.login(username=outsider.username, password=TEST_PASSWORD)
    Membership.objects.filter(user=outsider).update(role="qa")
    for path in ["/", "/studies/", "/system/", "/audit/", "/audit/?format=csv", "/api/v1/studies/",
                 "/api/v1/labs/", "/api/v1/outbound-messages/", "/studies/?q=SECRET"]:
        response = client.get(path)
        assert response.status_code == 200, path
        assert b"SECRET-A" not in response.content, path
        assert b"Lab A secret" not in response.content, path


@pytest.mark.django_db
def test_admin_hides_lab_a_rows_when_staff_member_of_lab_b(lab_a_objects, outsider):
    outsider.is_staff = True
    outsider.save()
    from django.contrib.auth.models import Permission

    outsider.user_permissions.set(Permission.objects.filter(codename__startswith="view_"))
    client = Client()
    assert client.login(username=outsider.username, password=TEST_PASSWORD)
    listing = client.get("/admin/planner/study/")
    assert listing.status_code == 200
    assert b"SECRET-A" not in listing.content
    detail = client.get(f"/admin/planner/study/{lab_a_objects[Study].pk}/change/")
    assert detail.status_code in {302, 404}
    assert b"SECRET-A" not in detail.content
