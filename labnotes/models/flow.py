"""Flow cytometry: a run's panel, acquisitions per sample (with their FCS files), imports of
FlowJo statistics, and the lab's saved sample-name mappings.

Values are never edited: an import that was wrong is voided with a reason (its values drop out
of the results) and the file imported again.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from planner.audit import audit_trail
from planner.models import Lab, ProtocolVersion
from planner.models.base import VersionedModel


class FlowStatisticKind(models.TextChoices):
    COUNT = "count", "Count"
    FREQUENCY_OF_PARENT = "frequency_of_parent", "Freq. of parent (%)"
    FREQUENCY_OF_TOTAL = "frequency_of_total", "Freq. of total (%)"


class FlowImportKind(models.TextChoices):
    TABLE = "flowjo_table", "FlowJo table (CSV/TSV)"
    WORKSPACE = "flowjo_workspace", "FlowJo workspace (.wsp)"


def _void_constraint(name: str) -> models.CheckConstraint:
    return models.CheckConstraint(
        condition=models.Q(voided_at__isnull=True)
        | (models.Q(voided_by__isnull=False) & ~models.Q(void_reason="")),
        name=name,
    )


@audit_trail()
class FlowPanel(VersionedModel):
    """The flow panel of one run: a released flow-panel protocol version, its populations
    (copied from the version) and the derived statistics reported per sample
    (``[{"key", "label", "kind", "population", "denominator"}]``, see
    :mod:`labnotes.analysis.flow_statistics`)."""

    run = models.ForeignKey(
        "labnotes.StudyRun", on_delete=models.PROTECT, related_name="flow_panels"
    )
    protocol_version = models.ForeignKey(
        ProtocolVersion, on_delete=models.PROTECT, related_name="flow_panels"
    )
    populations = models.JSONField(default=list)
    derived_statistics = models.JSONField(default=list)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["run_id", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["run", "protocol_version"], name="flow_panel_once_per_run_and_version"
            ),
        ]

    def __str__(self) -> str:
        return f"flow panel {self.protocol_version} of {self.run}"


@audit_trail()
class FlowSampleMapping(VersionedModel):
    """How a lab's file sample names map to collected samples, saved to be reused.

    ``pattern`` is a regular expression matched against the sample name (file extension
    included). It names the sample with a group ``barcode``, or the animal with ``animal``
    (its tag) and the tissue with ``tissue`` (translated by ``tissue_aliases``, e.g.
    ``{"T": "tumour", "S": "spleen"}``), optionally the study day with ``day``.
    ``population_columns`` maps panel populations to gating paths of the files where the
    automatic match (the file's path ends with the panel's steps) is not wanted.
    """

    lab = models.ForeignKey(Lab, on_delete=models.PROTECT, related_name="flow_sample_mappings")
    name = models.CharField(max_length=120)
    pattern = models.CharField(max_length=300)
    tissue_aliases = models.JSONField(default=dict, blank=True)
    population_columns = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["lab", "name"]
        constraints = [
            models.UniqueConstraint(fields=["lab", "name"], name="flow_mapping_name_unique_in_lab")
        ]

    def __str__(self) -> str:
        return f"sample-name mapping '{self.name}'"


@audit_trail()
class FlowImport(models.Model):
    """One FlowJo table or workspace imported into a panel, with the file (by SHA-256) and the
    mapping as it was applied (``mapping_snapshot``)."""

    panel = models.ForeignKey(FlowPanel, on_delete=models.PROTECT, related_name="imports")
    kind = models.CharField(max_length=20, choices=FlowImportKind.choices)
    stored_file = models.ForeignKey(
        "labnotes.StoredFile", on_delete=models.PROTECT, related_name="flow_imports"
    )
    mapping = models.ForeignKey(
        FlowSampleMapping,
        on_delete=models.PROTECT,
        related_name="imports",
        null=True,
        blank=True,
    )
    mapping_snapshot = models.JSONField(default=dict)
    sample_count = models.PositiveIntegerField()
    value_count = models.PositiveIntegerField()
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    imported_at = models.DateTimeField(auto_now_add=True)
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
        ordering = ["panel_id", "-imported_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind__in=[choice.value for choice in FlowImportKind]),
                name="flow_import_kind_valid",
            ),
            _void_constraint("flow_import_void_has_who_and_why"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} import #{self.pk}"

    @property
    def is_voided(self) -> bool:
        return self.voided_at is not None


@audit_trail()
class FlowAcquisition(VersionedModel):
    """One sample acquired on the panel: its FCS file (when uploaded) with the metadata read
    from it, and the population values imported for it.

    ``channels`` is ``[{"number", "name", "marker"}]`` ($PnN, $PnS); ``spillover``
    ``{"keyword", "channels", "matrix"}`` or null. ``acquisition_date`` and ``start_time_text``
    are as the cytometer wrote them (FCS carries no time zone).
    """

    panel = models.ForeignKey(FlowPanel, on_delete=models.PROTECT, related_name="acquisitions")
    sample = models.ForeignKey(
        "labnotes.Sample", on_delete=models.PROTECT, related_name="flow_acquisitions"
    )
    source_name = models.CharField(max_length=255, blank=True)
    fcs_file = models.ForeignKey(
        "labnotes.StoredFile",
        on_delete=models.PROTECT,
        related_name="flow_acquisitions",
        null=True,
        blank=True,
    )
    fcs_version = models.CharField(max_length=10, blank=True)
    cytometer = models.CharField(max_length=200, blank=True)
    acquisition_date = models.DateField(null=True, blank=True)
    start_time_text = models.CharField(max_length=40, blank=True)
    event_count = models.PositiveBigIntegerField(null=True, blank=True)
    channels = models.JSONField(default=list, blank=True)
    spillover = models.JSONField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
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
        ordering = ["panel_id", "sample_id", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["panel", "sample"],
                condition=models.Q(voided_at__isnull=True),
                name="flow_acquisition_one_per_sample",
            ),
            _void_constraint("flow_acquisition_void_has_who_and_why"),
        ]

    def __str__(self) -> str:
        return f"flow acquisition of sample {self.sample_id}"

    @property
    def is_voided(self) -> bool:
        return self.voided_at is not None


@audit_trail()
class FlowPopulationValue(models.Model):
    """One imported statistic of one population of one acquisition. Never changed."""

    acquisition = models.ForeignKey(
        FlowAcquisition, on_delete=models.PROTECT, related_name="population_values"
    )
    flow_import = models.ForeignKey(
        FlowImport, on_delete=models.PROTECT, related_name="population_values"
    )
    population = models.CharField(
        max_length=300, blank=True, help_text="Panel gating path; empty for the whole sample."
    )
    source_path = models.CharField(max_length=500, blank=True)
    statistic = models.CharField(max_length=30, choices=FlowStatisticKind.choices)
    value = models.FloatField()

    class Meta:
        ordering = ["acquisition_id", "population", "statistic"]
        constraints = [
            models.UniqueConstraint(
                fields=["acquisition", "flow_import", "population", "statistic"],
                name="flow_value_once_per_import",
            ),
            models.CheckConstraint(
                condition=models.Q(statistic__in=[choice.value for choice in FlowStatisticKind]),
                name="flow_value_statistic_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(value__gte=0), name="flow_value_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.population or 'all events'} {self.statistic} = {self.value}"
