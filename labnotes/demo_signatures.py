"""The demo's electronic signature: the study director approves the demo's final report.

Signed through the same service as the signing page (password and, since the demo director
has the published demo authenticator, the current TOTP code), so the demo shows a real
signature: bound to the report's data hash, printed in its PDF once the worker builds it.
"""

from __future__ import annotations

import logging
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django_otp import devices_for_user
from django_otp.plugins.otp_totp.models import TOTPDevice

from labnotes.models import Report
from planner.demo import DEMO_PASSWORD
from planner.models import Signature, SignatureMeaning
from planner.security_demo import current_demo_code
from planner.services.signatures import sign_record

logger = logging.getLogger(__name__)


def sign_demo_report(report: Report, director: Any) -> Signature | None:
    """Sign ``report`` as the demo's study director, meaning "approved" (once)."""
    existing = Signature.objects.filter(
        content_type=ContentType.objects.get_for_model(Report),
        object_id=report.pk,
        signer=director,
        meaning=SignatureMeaning.APPROVED,
    ).first()
    if existing is not None:
        return existing
    has_device = any(True for _ in devices_for_user(director, confirmed=True))
    # A TOTP code is good once: the loader's use of the current code would refuse the person
    # who logs in as the director in the same 30 s. The demo's own use does not count.
    last_steps = dict(TOTPDevice.objects.filter(user=director).values_list("pk", "last_t"))
    try:
        return sign_record(
            record=report,
            meaning=SignatureMeaning.APPROVED,
            signer=director,
            password=DEMO_PASSWORD,
            otp_token=current_demo_code() if has_device else "",
        )
    except ValidationError as error:
        logger.warning("demo: the report was not signed: %s", error)
        return None
    finally:
        for pk, last_t in last_steps.items():
            TOTPDevice.objects.filter(pk=pk).update(last_t=last_t)
