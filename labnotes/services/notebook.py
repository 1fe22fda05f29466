"""Notebook entries: dated Markdown, links, versioned text, attachments stored once.

Blinding: an entry is free text, so it can reveal an allocation. Two guards decide who may
read it (see ``labnotes.selectors_samples.list_entries_for_user``):

- the author may declare that it reveals the allocation of its linked runs;
- the text is checked, on every save, for the arm labels and agents (vehicles excepted) of the
  lab's blinded studies; an entry naming one is restricted to readers who see that study's
  allocation. Conservative on purpose: "IL-12 aliquots thawed" is restricted too, since telling
  a harmless mention from "0042 had IL-12" is beyond a word match, and a false alarm only hides
  an entry from blinded readers, while a miss would unblind them.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import markdown
import nh3
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from labnotes.models import (
    Animal,
    NotebookAttachment,
    NotebookEntry,
    NotebookEntryVersion,
    NotebookLink,
    NotebookLinkKind,
    NotebookRestriction,
    Sample,
    StudyRun,
    Tumour,
)
from labnotes.services.common import DECIDERS, RECORDERS, StaleWrite, lab_today
from labnotes.services.files import store_file
from planner.audit import audited_change
from planner.models import Lab, Role, Study, StudyStatus
from planner.services.permissions import require_role

#: Who may write entries: everyone who records, plus QA and the veterinarian.
NOTEBOOK_WRITERS = (*RECORDERS, Role.QA, Role.VETERINARIAN)
MAX_BODY_CHARACTERS = 200_000
#: Mentions shorter than this are not searched for (a two-letter arm label matches too much).
MIN_TERM_LENGTH = 3

# -- Markdown ----------------------------------------------------------------------------------

#: What survives sanitizing: text structure, tables, code, links (http, https, mailto only).
#: No images: the page's Content Security Policy would refuse outside ones anyway, and
#: attachments are listed with their hashes beside the text.
ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "dd", "del", "dl", "dt", "em", "h1", "h2",
    "h3", "h4", "h5", "h6", "hr", "i", "kbd", "li", "ol", "p", "pre", "s", "strong", "sub",
    "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "ul",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "abbr": {"title"}, "th": {"align"}, "td": {"align"}}
ALLOWED_URL_SCHEMES = {"http", "https", "mailto"}


def render_markdown(text: str) -> str:
    """Markdown (Python-Markdown with tables, fenced code and sane lists) as HTML that is safe to
    put in a page: sanitized by nh3 (ammonia) to :data:`ALLOWED_TAGS`, links only to
    :data:`ALLOWED_URL_SCHEMES` (``javascript:`` and ``data:`` links lose their target), every
    link ``rel="noopener noreferrer nofollow"``; ``<script>`` and ``<style>`` are removed with
    their content."""
    html = markdown.markdown(
        text or "", extensions=["tables", "fenced_code", "sane_lists"], output_format="html"
    )
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=ALLOWED_URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
    )


# -- allocation in free text ---------------------------------------------------------------------


def allocation_terms(lab: Lab) -> dict[int, set[str]]:
    """Per blinded study of the lab: the words that would name an allocation (arm labels and
    the agents of non-vehicle regimen items), lower case."""
    terms: dict[int, set[str]] = {}
    studies = Study.objects.filter(lab=lab, blinded=True).exclude(status=StudyStatus.DRAFT)
    for study in studies.prefetch_related("arms__regimen_items"):
        found: set[str] = set()
        for arm in study.arms.all():
            found.add(arm.label.strip().lower())
            for item in arm.regimen_items.all():
                if not item.is_vehicle:
                    found.add(item.agent.strip().lower())
        terms[study.pk] = {term for term in found if len(term) >= MIN_TERM_LENGTH}
    return terms


def _mentions(text: str, term: str) -> bool:
    # Whole words only ("IL-12" must not match "IL-123"); the term may hold any characters.
    return re.search(rf"(?<![\w]){re.escape(term)}(?![\w])", text) is not None


def detect_allocation_studies(lab: Lab, *texts: str) -> set[int]:
    """Ids of the lab's blinded studies whose arm labels or agents the texts name."""
    haystack = "\n".join(texts).lower()
    return {
        study_id
        for study_id, terms in allocation_terms(lab).items()
        if any(_mentions(haystack, term) for term in terms)
    }


# -- links -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Links:
    runs: tuple[StudyRun, ...] = ()
    animals: tuple[Animal, ...] = ()
    tumours: tuple[Tumour, ...] = ()
    samples: tuple[Sample, ...] = ()

    def rows(self) -> list[tuple[str, str, object]]:
        return (
            [(NotebookLinkKind.RUN, "run", run) for run in self.runs]
            + [(NotebookLinkKind.ANIMAL, "animal", animal) for animal in self.animals]
            + [(NotebookLinkKind.TUMOUR, "tumour", tumour) for tumour in self.tumours]
            + [(NotebookLinkKind.SAMPLE, "sample", sample) for sample in self.samples]
        )

    def linked_runs(self) -> set[StudyRun]:
        return (
            set(self.runs)
            | {animal.run for animal in self.animals}
            | {tumour.animal.run for tumour in self.tumours}
            | {sample.animal.run for sample in self.samples}
        )


def _make_links(
    lab: Lab,
    runs: Iterable[StudyRun],
    animals: Iterable[Animal],
    tumours: Iterable[Tumour],
    samples: Iterable[Sample],
) -> Links:
    links = Links(
        tuple(dict.fromkeys(runs)),
        tuple(dict.fromkeys(animals)),
        tuple(dict.fromkeys(tumours)),
        tuple(dict.fromkeys(samples)),
    )
    for run in links.linked_runs():
        if run.study.lab_id != lab.pk:
            raise ValidationError("An entry links only to runs, animals and samples of its lab.")
    return links


def _restrictions(
    lab: Lab, title: str, body: str, links: Links, reveals_allocation: bool
) -> dict[int, bool]:
    """Study id → detected in the text (True) or only declared by the author (False)."""
    detected = detect_allocation_studies(lab, title, body)
    declared: set[int] = set()
    if reveals_allocation:
        declared = {run.study_id for run in links.linked_runs() if run.study.blinded}
        if not declared:
            raise ValidationError(
                {
                    "reveals_allocation": "Link the run (or animals) of the blinded study whose "
                    "allocation this entry reveals."
                }
            )
    return {study_id: study_id in detected for study_id in detected | declared}


def _write_links_and_restrictions(
    entry: NotebookEntry, links: Links, restrictions: dict[int, bool]
) -> None:
    wanted = {
        (kind, getattr(target, "pk", None)): (kind, name, target)
        for kind, name, target in links.rows()
    }
    existing = {(link.kind, getattr(link.target, "pk", None)): link for link in entry.links.all()}
    for key, link in existing.items():
        if key not in wanted:
            link.delete()
    NotebookLink.objects.bulk_create(
        [
            NotebookLink(entry=entry, kind=kind, **{name: target})
            for key, (kind, name, target) in wanted.items()
            if key not in existing
        ]
    )
    current = {row.study_id: row for row in entry.restrictions.all()}
    for study_id, row in current.items():
        if study_id not in restrictions:
            row.delete()
        elif row.detected != restrictions[study_id]:
            NotebookRestriction.objects.filter(pk=row.pk).update(detected=restrictions[study_id])
    NotebookRestriction.objects.bulk_create(
        [
            NotebookRestriction(entry=entry, study_id=study_id, detected=detected)
            for study_id, detected in restrictions.items()
            if study_id not in current
        ]
    )


def _clean_text(title: str, body: str) -> tuple[str, str]:
    title = (title or "").strip()
    if not title:
        raise ValidationError({"title": "Give the entry a title."})
    if len(title) > 200:
        raise ValidationError({"title": "At most 200 characters."})
    if len(body or "") > MAX_BODY_CHARACTERS:
        raise ValidationError({"body": f"At most {MAX_BODY_CHARACTERS:,} characters."})
    return title, (body or "").replace("\r\n", "\n")


# -- writes ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Upload:
    filename: str
    content_type: str
    content: bytes


def create_entry(
    *,
    lab: Lab,
    author: User,
    title: str,
    body: str = "",
    entry_date: dt.date | None = None,
    runs: Sequence[StudyRun] = (),
    animals: Sequence[Animal] = (),
    tumours: Sequence[Tumour] = (),
    samples: Sequence[Sample] = (),
    reveals_allocation: bool = False,
    attachments: Sequence[Upload] = (),
) -> NotebookEntry:
    """Write a notebook entry dated ``entry_date`` (the lab's today when not given; never in
    the future), linked to runs, animals, tumours and samples of ``lab``, with attachments
    (each stored once by its SHA-256). Its text is version 1."""
    require_role(author, lab, NOTEBOOK_WRITERS, action="write notebook entries")
    title, body = _clean_text(title, body)
    today = lab_today(lab)
    day = entry_date or today
    if day > today:
        raise ValidationError({"entry_date": "An entry cannot be dated in the future."})
    links = _make_links(lab, runs, animals, tumours, samples)
    restrictions = _restrictions(lab, title, body, links, reveals_allocation)
    with transaction.atomic(), audited_change(reason=None, required=False):
        entry = NotebookEntry(
            lab=lab,
            entry_date=day,
            title=title,
            body=body,
            author=author,
            reveals_allocation=reveals_allocation,
        )
        entry.full_clean()
        entry.save()
        NotebookEntryVersion.objects.create(
            entry=entry, number=1, entry_date=day, title=title, body=body, saved_by=author
        )
        _write_links_and_restrictions(entry, links, restrictions)
        for upload in attachments:
            _attach(entry, author, upload, reason="")
    return entry


def edit_entry(
    *,
    entry: NotebookEntry,
    edited_by: User,
    reason: str,
    expected_version: int | None = None,
    title: str | None = None,
    body: str | None = None,
    entry_date: dt.date | None = None,
    runs: Sequence[StudyRun] | None = None,
    animals: Sequence[Animal] | None = None,
    tumours: Sequence[Tumour] | None = None,
    samples: Sequence[Sample] | None = None,
    reveals_allocation: bool | None = None,
) -> NotebookEntry:
    """Change an entry after the fact: only its author, always with a reason. A changed title,
    text or date becomes a new version (the old ones stay readable); links and the allocation
    flag change in place (the audit trail keeps the old ones). ``None`` keeps a value."""
    lab = entry.lab
    require_role(edited_by, lab, NOTEBOOK_WRITERS, action="edit notebook entries")
    if entry.author_id != edited_by.pk:
        raise PermissionDenied("Only the author of an entry may edit it.")
    with transaction.atomic(), audited_change(reason=reason, required=True):
        current = NotebookEntry.objects.select_for_update().get(pk=entry.pk)
        if expected_version is not None and current.row_version != expected_version:
            raise StaleWrite(current)
        if current.is_voided:
            raise ValidationError("This entry is voided: it cannot be changed.")
        new_title, new_body = _clean_text(
            current.title if title is None else title, current.body if body is None else body
        )
        day = current.entry_date if entry_date is None else entry_date
        if day > lab_today(lab):
            raise ValidationError({"entry_date": "An entry cannot be dated in the future."})
        old_links = _current_links(current)
        links = _make_links(
            lab,
            old_links.runs if runs is None else runs,
            old_links.animals if animals is None else animals,
            old_links.tumours if tumours is None else tumours,
            old_links.samples if samples is None else samples,
        )
        reveals = current.reveals_allocation if reveals_allocation is None else reveals_allocation
        restrictions = _restrictions(lab, new_title, new_body, links, reveals)
        text_changed = (new_title, new_body, day) != (
            current.title,
            current.body,
            current.entry_date,
        )
        number = current.version + (1 if text_changed else 0)
        NotebookEntry.objects.filter(pk=current.pk).update(
            title=new_title,
            body=new_body,
            entry_date=day,
            reveals_allocation=reveals,
            version=number,
            updated_at=timezone.now(),
            row_version=F("row_version") + 1,
        )
        if text_changed:
            NotebookEntryVersion.objects.create(
                entry=current,
                number=number,
                entry_date=day,
                title=new_title,
                body=new_body,
                saved_by=edited_by,
                reason=reason.strip(),
            )
        _write_links_and_restrictions(current, links, restrictions)
        current.refresh_from_db()
    return current


def _current_links(entry: NotebookEntry) -> Links:
    links = list(
        entry.links.select_related(
            "run__study",
            "animal__run__study",
            "tumour__animal__run__study",
            "sample__animal__run__study",
        )
    )
    return Links(
        tuple(link.run for link in links if link.run is not None),
        tuple(link.animal for link in links if link.animal is not None),
        tuple(link.tumour for link in links if link.tumour is not None),
        tuple(link.sample for link in links if link.sample is not None),
    )


def void_entry(
    *,
    entry: NotebookEntry,
    voided_by: User,
    reason: str,
    expected_version: int | None = None,
) -> NotebookEntry:
    """Void an entry (its author, or a scientist, study director or lab admin): it stays
    readable, marked void, and drops out of lists and search."""
    membership = require_role(
        voided_by, entry.lab, NOTEBOOK_WRITERS, action="void notebook entries"
    )
    if entry.author_id != voided_by.pk and membership.role not in DECIDERS:
        raise PermissionDenied(
            "Only the author, a scientist, a study director or a lab admin may void an entry."
        )
    with transaction.atomic(), audited_change(reason=reason, required=True):
        current = NotebookEntry.objects.select_for_update().get(pk=entry.pk)
        if expected_version is not None and current.row_version != expected_version:
            raise StaleWrite(current)
        if current.is_voided:
            raise ValidationError("This entry is voided already.")
        NotebookEntry.objects.filter(pk=current.pk).update(
            voided_at=timezone.now(),
            voided_by=voided_by,
            void_reason=reason.strip(),
            row_version=F("row_version") + 1,
        )
        current.refresh_from_db()
    return current


def _attach(
    entry: NotebookEntry,
    user: User,
    upload: Upload,
    *,
    reason: str,
    replaces: NotebookAttachment | None = None,
) -> NotebookAttachment:
    stored = store_file(
        content=upload.content,
        filename=upload.filename,
        content_type=upload.content_type,
        stored_by=user,
        lab=entry.lab,
    )
    filename = (upload.filename or stored.original_filename).replace("\\", "/").rsplit("/", 1)[-1]
    filename = filename.strip()[:255] or stored.original_filename
    if replaces is None:
        same = NotebookAttachment.objects.filter(
            entry=entry, stored_file=stored, replaced_by__isnull=True
        ).first()
        if same is not None:
            return same  # the same bytes are attached already: stored once, listed once
        return NotebookAttachment.objects.create(
            entry=entry, stored_file=stored, filename=filename, added_by=user, reason=reason
        )
    if replaces.stored_file_id == stored.pk:
        raise ValidationError({"file": "This is the same file (same SHA-256): nothing to replace."})
    return NotebookAttachment.objects.create(
        entry=entry,
        stored_file=stored,
        filename=filename,
        version=replaces.version + 1,
        replaces=replaces,
        added_by=user,
        reason=reason.strip(),
    )


def add_attachment(
    *, entry: NotebookEntry, added_by: User, upload: Upload, reason: str = ""
) -> NotebookAttachment:
    """Attach a file to an entry. The bytes are stored once per lab (by SHA-256); attaching the
    same bytes to the same entry again returns the attachment already there."""
    require_role(added_by, entry.lab, NOTEBOOK_WRITERS, action="attach files")
    if entry.is_voided:
        raise ValidationError("This entry is voided: nothing can be attached.")
    with transaction.atomic(), audited_change(reason=reason, required=False):
        return _attach(entry, added_by, upload, reason=reason.strip())


def replace_attachment(
    *, attachment: NotebookAttachment, added_by: User, upload: Upload, reason: str
) -> NotebookAttachment:
    """Replace an attachment with a new version (a reason is required). The old version and its
    bytes stay, immutable, reachable from the new one."""
    entry = attachment.entry
    require_role(added_by, entry.lab, NOTEBOOK_WRITERS, action="replace attachments")
    if entry.is_voided:
        raise ValidationError("This entry is voided: its attachments cannot change.")
    with transaction.atomic(), audited_change(reason=reason, required=True):
        # Lock the entry: two people replacing the same version at once get one new version.
        NotebookEntry.objects.select_for_update().get(pk=entry.pk)
        if NotebookAttachment.objects.filter(replaces=attachment).exists():
            raise ValidationError(
                {
                    "file": f"Version {attachment.version} of {attachment.filename} was replaced "
                    "already: replace the latest version."
                }
            )
        return _attach(entry, added_by, upload, reason=reason, replaces=attachment)
