"""Notebook entries: dated Markdown with links to runs, animals, tumours and samples, versioned
text, and attachments stored once (content-addressed) that are never changed, only replaced."""

from __future__ import annotations

import pgtrigger
from django.conf import settings
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVector
from django.db import models
from django.db.models.expressions import CombinedExpression

from planner.audit import audit_trail
from planner.models import Lab, Study
from planner.models.base import VersionedModel

#: The text-search configuration: English stemming ("measured" finds "measuring").
SEARCH_CONFIG = "english"


def entry_search_vector() -> CombinedExpression:
    """Title (weight A) and body (weight B) as one tsvector.

    The GIN index below is built on exactly this expression, so a query that filters on it
    (``labnotes.selectors_notebook.search_entries``) uses the index without a stored column.
    """
    return SearchVector("title", weight="A", config=SEARCH_CONFIG) + SearchVector(
        "body", weight="B", config=SEARCH_CONFIG
    )


@audit_trail()
class NotebookEntry(VersionedModel):
    """A dated notebook entry of a lab, written in Markdown.

    ``version`` counts the text's versions (1 when written; each edit after the fact adds one,
    with its reason, in :class:`NotebookEntryVersion`). ``restricted_studies`` are the blinded
    studies whose allocation the entry may reveal: only readers who see the allocation of every
    one of them may read or find it (its author always may).
    """

    lab = models.ForeignKey(Lab, on_delete=models.PROTECT, related_name="notebook_entries")
    entry_date = models.DateField(help_text="The day the entry is about (lab-local).")
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True, help_text="Markdown.")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="notebook_entries"
    )
    version = models.PositiveIntegerField(default=1)
    reveals_allocation = models.BooleanField(
        default=False,
        help_text="The author says the entry reveals the allocation of its linked runs.",
    )
    restricted_studies = models.ManyToManyField(
        Study, through="labnotes.NotebookRestriction", related_name="+", blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    voided_at = models.DateTimeField(null=True, blank=True)
    voided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    void_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["-entry_date", "-pk"]
        verbose_name_plural = "notebook entries"
        indexes = [
            GinIndex(entry_search_vector(), name="notebook_entry_search"),
            models.Index(fields=["lab", "entry_date"], name="notebook_entry_lab_date"),
        ]
        constraints = [
            models.CheckConstraint(condition=~models.Q(title=""), name="notebook_title_not_blank"),
            models.CheckConstraint(
                condition=models.Q(voided_at__isnull=True)
                | (models.Q(voided_by__isnull=False) & ~models.Q(void_reason="")),
                name="notebook_void_has_who_and_why",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.entry_date}: {self.title}"

    @property
    def is_voided(self) -> bool:
        return self.voided_at is not None


class NotebookLinkKind(models.TextChoices):
    RUN = "run", "Run"
    ANIMAL = "animal", "Animal"
    TUMOUR = "tumour", "Tumour"
    SAMPLE = "sample", "Sample"


@audit_trail()
class NotebookLink(models.Model):
    """What an entry is about: one run, animal, tumour or sample (exactly one of them)."""

    entry = models.ForeignKey(NotebookEntry, on_delete=models.PROTECT, related_name="links")
    kind = models.CharField(max_length=8, choices=NotebookLinkKind.choices)
    run = models.ForeignKey(
        "labnotes.StudyRun",
        on_delete=models.PROTECT,
        related_name="notebook_links",
        null=True,
        blank=True,
    )
    animal = models.ForeignKey(
        "labnotes.Animal",
        on_delete=models.PROTECT,
        related_name="notebook_links",
        null=True,
        blank=True,
    )
    tumour = models.ForeignKey(
        "labnotes.Tumour",
        on_delete=models.PROTECT,
        related_name="notebook_links",
        null=True,
        blank=True,
    )
    sample = models.ForeignKey(
        "labnotes.Sample",
        on_delete=models.PROTECT,
        related_name="notebook_links",
        null=True,
        blank=True,
    )

    class Meta:
        ordering = ["entry", "kind", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(
                    kind="run",
                    run__isnull=False,
                    animal__isnull=True,
                    tumour__isnull=True,
                    sample__isnull=True,
                )
                | models.Q(
                    kind="animal",
                    run__isnull=True,
                    animal__isnull=False,
                    tumour__isnull=True,
                    sample__isnull=True,
                )
                | models.Q(
                    kind="tumour",
                    run__isnull=True,
                    animal__isnull=True,
                    tumour__isnull=False,
                    sample__isnull=True,
                )
                | models.Q(
                    kind="sample",
                    run__isnull=True,
                    animal__isnull=True,
                    tumour__isnull=True,
                    sample__isnull=False,
                ),
                name="notebook_link_exactly_one_target",
            ),
            models.UniqueConstraint(
                fields=["entry", "kind", "run", "animal", "tumour", "sample"],
                name="notebook_link_unique",
                nulls_distinct=False,
            ),
        ]

    def __str__(self) -> str:
        return f"{self.entry} → {self.get_kind_display()} {self.target}"

    @property
    def target(self) -> object:
        return self.run or self.animal or self.tumour or self.sample


@audit_trail()
class NotebookRestriction(models.Model):
    """A blinded study whose allocation the entry may reveal (see ``NotebookEntry``)."""

    entry = models.ForeignKey(NotebookEntry, on_delete=models.PROTECT, related_name="restrictions")
    study = models.ForeignKey(Study, on_delete=models.PROTECT, related_name="+")
    detected = models.BooleanField(
        default=False, help_text="Found in the text (an arm label or agent), not only declared."
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["entry", "study"], name="notebook_restriction_unique")
        ]

    def __str__(self) -> str:
        return f"{self.entry} restricted by {self.study.code}"


@audit_trail()
class NotebookEntryVersion(models.Model):
    """One version of an entry's text as it was saved. Never changed or deleted."""

    entry = models.ForeignKey(NotebookEntry, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField()
    entry_date = models.DateField()
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    saved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    saved_at = models.DateTimeField(auto_now_add=True)
    reason = models.TextField(blank=True)

    class Meta:
        ordering = ["entry", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["entry", "number"], name="notebook_version_unique"),
            models.CheckConstraint(
                condition=models.Q(number=1) | ~models.Q(reason=""),
                name="notebook_version_edit_has_reason",
            ),
        ]
        triggers = [
            pgtrigger.Protect(
                name="notebook_version_immutable", operation=pgtrigger.Update | pgtrigger.Delete
            ),
        ]

    def __str__(self) -> str:
        return f"{self.entry} version {self.number}"


@audit_trail()
class NotebookAttachment(models.Model):
    """A file attached to an entry: its bytes are a :class:`~labnotes.models.StoredFile`
    (content-addressed, stored once). Never changed or deleted; replacing one adds a new row
    with ``replaces`` pointing at the old one and ``version`` one higher."""

    entry = models.ForeignKey(NotebookEntry, on_delete=models.PROTECT, related_name="attachments")
    stored_file = models.ForeignKey(
        "labnotes.StoredFile", on_delete=models.PROTECT, related_name="notebook_attachments"
    )
    filename = models.CharField(max_length=255)
    version = models.PositiveIntegerField(default=1)
    replaces = models.OneToOneField(
        "self",
        on_delete=models.PROTECT,
        related_name="replaced_by",
        null=True,
        blank=True,
    )
    reason = models.TextField(blank=True)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["entry", "filename", "-version"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(replaces__isnull=True, version=1)
                | (models.Q(replaces__isnull=False, version__gt=1) & ~models.Q(reason="")),
                name="notebook_attachment_version_chain",
            ),
        ]
        triggers = [
            pgtrigger.Protect(
                name="notebook_attachment_immutable",
                operation=pgtrigger.Update | pgtrigger.Delete,
            ),
        ]

    def __str__(self) -> str:
        return f"{self.filename} v{self.version}"
