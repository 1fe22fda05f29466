"""The demo's report: a final report of the demo run, asked for by the study director.

Called last in ``labnotes.demo._record_history`` (it reads everything the other areas wrote).
The job is queued in the demo's transaction and built by the worker once ``make run`` has
started it (the message is sent after commit; if the broker is not reachable yet, the report
sweeper on beat sends it again), so loading the demo stays fast.
"""

from __future__ import annotations

import logging
from typing import Any

from labnotes.models import Report, StudyRun
from labnotes.services.reports import request_report

logger = logging.getLogger(__name__)


def request_demo_report(run: StudyRun, users: dict[str, Any]) -> Report | None:
    """Ask for the final report of ``run`` as the demo's study director (None without one)."""
    director = users.get("director")
    if director is None:
        logger.warning("demo: no study director; no report requested")
        return None
    report, _ = request_report(run=run, kind="final", requested_by=director)
    from labnotes.demo_signatures import sign_demo_report

    sign_demo_report(report, director)  # issue 10: approved by the study director
    return report
