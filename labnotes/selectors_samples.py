"""Reads for samples, necropsies and notebook entries, scoped to what the user may see.

Samples and necropsies follow their animal (the user's labs' runs). Notebook entries are read
through :func:`list_entries_for_user`: entries of the user's labs, none linked to a run the user
cannot see, and none restricted to readers who see an allocation the user does not (the author
always sees their own). Search (:func:`search_entries`) filters that same queryset, so a result
list never holds an entry its reader could not open.
"""

from __future__ import annotations

from django.contrib.postgres.search import SearchQuery, SearchRank
from django.db.models import Exists, OuterRef, Q, QuerySet

from labnotes.models import (
    Necropsy,
    NotebookAttachment,
    NotebookEntry,
    NotebookLink,
    NotebookRestriction,
    Sample,
    StudyRun,
)
from labnotes.models.dosing import DoseRecord
from labnotes.models.notebook import SEARCH_CONFIG, entry_search_vector
from labnotes.selectors import (
    list_runs_for_user,
    studies_with_allocation_visible,
    studies_with_dosing_visible,
)
from planner.models import Study
from planner.selectors import UserLike, list_labs_for_user

# -- samples and necropsies --------------------------------------------------------------------


def list_samples_for_user(user: UserLike) -> QuerySet[Sample]:
    return Sample.objects.filter(animal__run__in=list_runs_for_user(user)).select_related(
        "animal__run__study__lab",
        "animal__arm",
        "tumour",
        "procedure__protocol_version",
        "collected_by",
        "necropsy",
        "dose__regimen_item",
    )


def list_necropsies_for_user(user: UserLike) -> QuerySet[Necropsy]:
    return Necropsy.objects.filter(animal__run__in=list_runs_for_user(user)).select_related(
        "animal__run__study__lab", "performed_by", "protocol_version"
    )


def list_doses_for_sampling(user: UserLike) -> QuerySet[DoseRecord]:
    """Doses given that a sample may be timed against: only where the user may see dosing."""
    return (
        DoseRecord.objects.filter(
            run__in=list_runs_for_user(user),
            run__study__in=studies_with_dosing_visible(user),
            outcome="given",
            voided_at__isnull=True,
            given_at__isnull=False,
        )
        .select_related("regimen_item", "animal")
        .order_by("given_at", "pk")
    )


# -- notebook ----------------------------------------------------------------------------------


def list_entries_for_user(
    user: UserLike, *, include_voided: bool = True
) -> QuerySet[NotebookEntry]:
    """Notebook entries the user may read (see the module docstring)."""
    if not user.is_authenticated:
        return NotebookEntry.objects.none()
    hidden_runs = StudyRun.objects.exclude(pk__in=list_runs_for_user(user).values("pk"))
    hidden_link = NotebookLink.objects.filter(entry=OuterRef("pk")).filter(
        Q(run__in=hidden_runs)
        | Q(animal__run__in=hidden_runs)
        | Q(tumour__animal__run__in=hidden_runs)
        | Q(sample__animal__run__in=hidden_runs)
    )
    blind_spots = Study.objects.exclude(pk__in=studies_with_allocation_visible(user).values("pk"))
    restricted = NotebookRestriction.objects.filter(entry=OuterRef("pk"), study__in=blind_spots)
    entries = (
        NotebookEntry.objects.filter(lab__in=list_labs_for_user(user))
        .filter(~Exists(hidden_link))
        .filter(Q(author=user) | ~Exists(restricted))
        .select_related("lab", "author", "voided_by")
    )
    if not include_voided:
        entries = entries.filter(voided_at__isnull=True)
    return entries


def search_entries(
    user: UserLike, text: str, *, include_voided: bool = False
) -> QuerySet[NotebookEntry]:
    """Entries matching ``text`` (web-search syntax: words, "quoted phrases", or, -not), best
    first: PostgreSQL full-text search on title (weight A) and body (weight B) with English
    stemming, ranked by ``ts_rank``; ties newest first. Uses the ``notebook_entry_search`` GIN
    index (same expression)."""
    query = SearchQuery(text, config=SEARCH_CONFIG, search_type="websearch")
    vector = entry_search_vector()
    return (
        list_entries_for_user(user, include_voided=include_voided)
        .annotate(search=vector, rank=SearchRank(vector, query))
        .filter(search=query)
        .order_by("-rank", "-entry_date", "-pk")
    )


def current_attachments(entry: NotebookEntry) -> QuerySet[NotebookAttachment]:
    """The entry's attachments in their latest version (older versions hang off ``replaces``)."""
    return (
        NotebookAttachment.objects.filter(entry=entry, replaced_by__isnull=True)
        .select_related("stored_file", "added_by")
        .order_by("filename", "pk")
    )


def list_attachments_for_user(user: UserLike) -> QuerySet[NotebookAttachment]:
    return NotebookAttachment.objects.filter(entry__in=list_entries_for_user(user)).select_related(
        "stored_file", "entry", "added_by"
    )


def list_entries_linked_to(user: UserLike, **target: object) -> QuerySet[NotebookEntry]:
    """Readable entries linked to one run, animal, tumour or sample (``run=…`` etc.)."""
    ((kind, value),) = target.items()
    return list_entries_for_user(user, include_voided=False).filter(
        pk__in=NotebookLink.objects.filter(**{kind: value}).values("entry")
    )
