"""Ethics usage: approved, used and remaining animals per ethics protocol, by strain and severity,
the actual severities reported, and expiry warnings — with a CSV export for the committee.

The planner does not read lab records: the counts come in as :class:`UsageCounts`, built by the
lab-records side (``labnotes.selectors_ethics.ethics_usage_counts``) and passed to
:func:`ethics_usage`.

Attribution rule: an animal counts against the approval of its study's strain. Where the
protocol approves that strain under several prospective severity categories, it counts against
the most severe one (the conservative choice: the scarcest quota is used up first). Animals
whose strain has no approval at all are listed as unapproved use.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass, field

from planner.audit.search import spreadsheet_safe
from planner.models import EthicsProtocol, Severity

#: Days before expiry at which the page warns, most urgent first.
EXPIRY_WARNING_DAYS = (30, 60)
SEVERITY_ORDER = [
    Severity.NON_RECOVERY,
    Severity.MILD,
    Severity.MODERATE,
    Severity.SEVERE,
]
NOT_ASSESSED = "not_assessed"


@dataclass(frozen=True)
class UsageCounts:
    """What the lab records say: animals used per strain, actual severities per strain (the
    key ``NOT_ASSESSED`` for animals without a recorded actual severity yet)."""

    used_by_strain: dict[str, int] = field(default_factory=dict)
    actual_severity: dict[tuple[str, str], int] = field(default_factory=dict)


@dataclass(frozen=True)
class ApprovalUsage:
    strain: str
    severity: str
    severity_label: str
    approved: int
    used: int

    @property
    def remaining(self) -> int:
        return self.approved - self.used

    @property
    def over(self) -> bool:
        return self.used > self.approved

    @property
    def percent_used(self) -> float:
        return 100.0 * self.used / self.approved if self.approved else 0.0


@dataclass(frozen=True)
class SeverityCount:
    strain: str
    severity: str
    label: str
    animals: int


@dataclass(frozen=True)
class EthicsUsage:
    protocol: EthicsProtocol
    today: dt.date
    approvals: tuple[ApprovalUsage, ...]
    actual: tuple[SeverityCount, ...]
    unapproved: dict[str, int]
    days_to_expiry: int
    warning: str

    @property
    def level(self) -> str:
        """``expired``, ``critical`` (≤ 30 days), ``warning`` (≤ 60 days) or ``ok``."""
        if self.days_to_expiry < 0:
            return "expired"
        if self.days_to_expiry <= EXPIRY_WARNING_DAYS[0]:
            return "critical"
        if self.days_to_expiry <= EXPIRY_WARNING_DAYS[1]:
            return "warning"
        return "ok"

    @property
    def total_approved(self) -> int:
        return sum(row.approved for row in self.approvals)

    @property
    def total_used(self) -> int:
        return sum(row.used for row in self.approvals) + sum(self.unapproved.values())


def _severity_rank(value: str) -> int:
    return SEVERITY_ORDER.index(Severity(value)) if value in Severity.values else -1


def _label(value: str) -> str:
    if value == NOT_ASSESSED:
        return "Not yet assessed"
    return Severity(value).label if value in Severity.values else value


def expiry_warning(protocol: EthicsProtocol, today: dt.date) -> tuple[int, str]:
    """Days until the protocol expires and the sentence to show ('' when more than 60)."""
    days = (protocol.expires_on - today).days
    if days < 0:
        return days, (
            f"Ethics protocol {protocol.number} expired on {protocol.expires_on:%Y-%m-%d} "
            f"({-days} days ago): no animal may be used under it."
        )
    if days <= EXPIRY_WARNING_DAYS[1]:
        return days, (
            f"Ethics protocol {protocol.number} expires on {protocol.expires_on:%Y-%m-%d}, in "
            f"{days} day{'s' if days != 1 else ''}: apply for renewal or an amendment in time."
        )
    return days, ""


def ethics_usage(*, protocol: EthicsProtocol, counts: UsageCounts, today: dt.date) -> EthicsUsage:
    """Approved / used / remaining per approval, actual severities and the expiry warning."""
    approvals = list(protocol.approvals.all())
    most_severe: dict[str, str] = {}
    for approval in approvals:
        current = most_severe.get(approval.strain)
        if current is None or _severity_rank(approval.severity) > _severity_rank(current):
            most_severe[approval.strain] = approval.severity
    rows = []
    for approval in sorted(approvals, key=lambda a: (a.strain, _severity_rank(a.severity))):
        used = (
            counts.used_by_strain.get(approval.strain, 0)
            if most_severe[approval.strain] == approval.severity
            else 0
        )
        rows.append(
            ApprovalUsage(
                strain=approval.strain,
                severity=approval.severity,
                severity_label=_label(approval.severity),
                approved=approval.approved_animals,
                used=used,
            )
        )
    unapproved = {
        strain: number
        for strain, number in sorted(counts.used_by_strain.items())
        if strain not in most_severe and number
    }
    actual = tuple(
        SeverityCount(strain, severity, _label(severity), number)
        for (strain, severity), number in sorted(
            counts.actual_severity.items(),
            key=lambda item: (item[0][0], _severity_rank(item[0][1])),
        )
    )
    days, warning = expiry_warning(protocol, today)
    return EthicsUsage(protocol, today, tuple(rows), actual, unapproved, days, warning)


def usage_csv(usage: EthicsUsage) -> str:
    """The committee's export: one row per approval (approved, used, remaining), then the
    actual severities, then any unapproved use."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    protocol = usage.protocol
    writer.writerow(["protocol", protocol.number])
    writer.writerow(["title", spreadsheet_safe(protocol.title)])
    writer.writerow(["approved_on", protocol.approved_on.isoformat()])
    writer.writerow(["expires_on", protocol.expires_on.isoformat()])
    writer.writerow(["as_of", usage.today.isoformat()])
    writer.writerow([])
    writer.writerow(["section", "strain", "severity", "approved", "used", "remaining"])
    for row in usage.approvals:
        writer.writerow(
            [
                "approval",
                spreadsheet_safe(row.strain),
                row.severity,
                row.approved,
                row.used,
                row.remaining,
            ]
        )
    for strain, number in usage.unapproved.items():
        writer.writerow(["unapproved", spreadsheet_safe(strain), "", 0, number, -number])
    writer.writerow([])
    writer.writerow(["section", "strain", "actual_severity", "animals"])
    for count in usage.actual:
        writer.writerow(["actual", spreadsheet_safe(count.strain), count.severity, count.animals])
    return buffer.getvalue()
