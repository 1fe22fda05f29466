"""Counting what an ethics protocol's animals went through, for the planner's usage summary."""

from __future__ import annotations

from collections import Counter

from django.db.models import Count

from labnotes.models import Animal, AnimalStatus, EndpointRecord
from planner.models import EthicsProtocol
from planner.services.ethics_usage import NOT_ASSESSED, UsageCounts


def ethics_usage_counts(protocol: EthicsProtocol) -> UsageCounts:
    """Animals used under ``protocol`` per strain, and their actual severities.

    An animal is used once it is registered in a run of a study under the protocol. An animal
    moved to a re-challenge run (status ``transferred``) is the same mouse as its row in that
    run, so only the latter counts. The actual severity is the one on the animal's endpoint
    record (voided records ignored); animals without one are ``NOT_ASSESSED``.
    """
    animals = Animal.objects.filter(run__study__ethics_protocol=protocol).exclude(
        status=AnimalStatus.TRANSFERRED
    )
    used = {
        row["run__study__strain"]: row["n"]
        for row in animals.values("run__study__strain").annotate(n=Count("pk"))
    }
    severities: Counter[tuple[str, str]] = Counter()
    assessed = dict(
        EndpointRecord.objects.filter(
            animal__in=animals, voided_at__isnull=True, actual_severity__gt=""
        ).values_list("animal_id", "actual_severity")
    )
    for animal_id, strain in animals.values_list("pk", "run__study__strain"):
        severities[(strain, assessed.get(animal_id, NOT_ASSESSED))] += 1
    return UsageCounts(used_by_strain=used, actual_severity=dict(severities))
