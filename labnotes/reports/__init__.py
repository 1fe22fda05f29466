"""Study reports rendered from a plain :class:`ReportInput`: HTML, PDF, XLSX and a data bundle.

Pure: no Django, DRF or Celery (an import-linter contract holds this). A Celery task builds the
input from the database and calls :func:`build_report`; tests and benchmarks build it from
:func:`labnotes.reports.synthetic.synthetic_study`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from labnotes.reports.model import ReportInput
from labnotes.reports.results import ReportResults, compute_results


@dataclass(frozen=True)
class ReportArtifacts:
    """Every artifact of one report and the SHA-256 (hex) of each, keyed by file name."""

    html: str
    pdf: bytes
    xlsx: bytes
    bundle: bytes
    results: dict[str, Any]
    sha256: dict[str, str]

    @property
    def files(self) -> dict[str, bytes]:
        """File name → bytes, the names a report job stores its artifacts under."""
        return {
            "report.html": self.html.encode("utf-8"),
            "report.pdf": self.pdf,
            "report.xlsx": self.xlsx,
            "bundle.zip": self.bundle,
        }


def build_report(report: ReportInput, *, results: ReportResults | None = None) -> ReportArtifacts:
    """Compute the results and render every artifact (seconds: the PDF layout dominates).

    ``results`` may be passed when already computed (the dashboard shares them).
    """
    from labnotes.reports.bundle import render_bundle
    from labnotes.reports.html import render_html
    from labnotes.reports.pdf import render_pdf
    from labnotes.reports.xlsx import render_xlsx

    computed = results if results is not None else compute_results(report)
    html = render_html(report, computed)
    artifacts = {
        "report.html": html.encode("utf-8"),
        "report.pdf": render_pdf(html),
        "report.xlsx": render_xlsx(report, computed),
        "bundle.zip": render_bundle(report, computed),
    }
    return ReportArtifacts(
        html=html,
        pdf=artifacts["report.pdf"],
        xlsx=artifacts["report.xlsx"],
        bundle=artifacts["bundle.zip"],
        results=computed.json,
        sha256={name: hashlib.sha256(data).hexdigest() for name, data in artifacts.items()},
    )


__all__ = ["ReportArtifacts", "ReportInput", "build_report", "compute_results"]
