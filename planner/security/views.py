"""Second factor pages: enrol an authenticator app, verify a code after the password."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import segno
from django import forms
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from planner.models import SecurityEventKind
from planner.services.security import record_security_event
from planner.types import AuthenticatedHttpRequest

ENROLMENT_DEVICE_NAME = "Authenticator app"


class TokenForm(forms.Form):
    token = forms.RegexField(
        regex=r"^\s*\d{6}\s*$",
        label="Six-digit code from your authenticator app",
        error_messages={"invalid": "Enter the six digits your authenticator app shows."},
        widget=forms.TextInput(
            attrs={
                "inputmode": "numeric",
                "autocomplete": "one-time-code",
                "maxlength": "7",
                "autofocus": True,
            }
        ),
    )

    def clean_token(self) -> str:
        return str(self.cleaned_data["token"]).strip()


def _next_url(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse("home")


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def otp_verify(request: AuthenticatedHttpRequest) -> HttpResponse:
    user: Any = request.user
    devices = list(TOTPDevice.objects.filter(user=user, confirmed=True))
    if not devices:
        return HttpResponseRedirect(
            f"{reverse('otp_enrol')}?{urlencode({'next': _next_url(request)})}"
        )
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        token = form.cleaned_data["token"]
        # django-otp throttles each device: after n wrong codes it refuses for 2^(n-1) s.
        open_devices = [device for device in devices if device.verify_is_allowed()[0]]
        for device in open_devices:
            if device.verify_token(token):
                otp_login(request, device)
                request.session.cycle_key()
                record_security_event(
                    kind=SecurityEventKind.OTP_VERIFIED,
                    user=user,
                    request=request,
                    detail={"device": device.persistent_id},
                )
                return HttpResponseRedirect(_next_url(request))
        record_security_event(
            kind=SecurityEventKind.OTP_FAILED,
            user=user,
            request=request,
            detail={"step": "verify", "throttled": not open_devices},
        )
        if not open_devices:
            form.add_error("token", "Too many wrong codes: wait a little, then try again.")
        else:
            form.add_error("token", "That code is not right (or has expired). Try the next one.")
    return render(request, "security/otp_verify.html", {"form": form, "next": _next_url(request)})


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def otp_enrol(request: AuthenticatedHttpRequest) -> HttpResponse:
    user: Any = request.user
    confirmed = TOTPDevice.objects.filter(user=user, confirmed=True).exists()
    if confirmed and not user.is_verified():
        # Someone holding only the password must not add an authenticator of their own.
        return HttpResponseRedirect(
            f"{reverse('otp_verify')}?{urlencode({'next': _next_url(request)})}"
        )
    with transaction.atomic():
        device = (
            TOTPDevice.objects.select_for_update()
            .filter(user=user, confirmed=False)
            .order_by("-pk")
            .first()
        )
        if device is None:
            device = TOTPDevice.objects.create(
                user=user, name=ENROLMENT_DEVICE_NAME, confirmed=False
            )
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if device.verify_is_allowed()[0] and device.verify_token(form.cleaned_data["token"]):
            with transaction.atomic():
                device.confirmed = True
                device.save(update_fields=["confirmed"])
                TOTPDevice.objects.filter(user=user, confirmed=False).delete()
                record_security_event(
                    kind=SecurityEventKind.OTP_ENROLLED,
                    user=user,
                    request=request,
                    detail={"device": device.persistent_id},
                )
            otp_login(request, device)
            request.session.cycle_key()
            return HttpResponseRedirect(_next_url(request))
        record_security_event(
            kind=SecurityEventKind.OTP_FAILED,
            user=user,
            request=request,
            detail={"step": "enrol"},
        )
        form.add_error(
            "token", "That code is not right. Check the app shows Vivolog, then try again."
        )
    uri = device.config_url
    qr_data_uri = segno.make(uri, error="m").svg_data_uri(scale=4, dark="#12304f")
    secret = _base32_secret(device)
    return render(
        request,
        "security/otp_enrol.html",
        {
            "form": form,
            "qr_data_uri": qr_data_uri,
            "secret": secret,
            "next": _next_url(request),
            "replacing": confirmed,
        },
    )


def _base32_secret(device: TOTPDevice) -> str:
    from base64 import b32encode

    raw = b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(raw[i : i + 4] for i in range(0, len(raw), 4))
