"""The signing page: re-enter the password (and the authenticator code), state the meaning.

Session only: the page needs a logged-in person and a CSRF token, so device and personal API
tokens (which the API alone accepts) can never sign.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods
from django_otp import devices_for_user

from planner.models import Membership, SignatureMeaning
from planner.services import signatures as signature_services
from planner.types import AuthenticatedHttpRequest


class SignForm(forms.Form):
    meaning = forms.ChoiceField(
        choices=SignatureMeaning.choices,
        help_text="What your signature means for this record.",
        widget=forms.Select(attrs={"class": "input"}),
    )
    password = forms.CharField(
        label="Your password",
        strip=False,
        help_text="Signing needs your password every time.",
        widget=forms.PasswordInput(attrs={"class": "input", "autocomplete": "current-password"}),
    )
    otp_token = forms.CharField(
        label="Authenticator code",
        required=False,
        max_length=10,
        help_text="The 6-digit code from your authenticator app.",
        widget=forms.TextInput(
            attrs={"class": "input", "autocomplete": "one-time-code", "inputmode": "numeric"}
        ),
    )

    def __init__(self, *args: Any, needs_code: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not needs_code:
            del self.fields["otp_token"]
        else:
            self.fields["otp_token"].required = True


def _safe_next(request: AuthenticatedHttpRequest) -> str | None:
    target = request.POST.get("next") or request.GET.get("next")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return None


@login_required
@require_http_methods(["GET", "POST"])
def sign_record(
    request: AuthenticatedHttpRequest, app_label: str, model_name: str, pk: int
) -> HttpResponse:
    try:
        record = signature_services.get_signable(app_label, model_name, pk)
        lab = signature_services.lab_of(record)
    except (ValidationError, ObjectDoesNotExist, LookupError):
        raise Http404("No such record") from None
    if not Membership.objects.filter(user=request.user, lab=lab).exists():
        raise Http404("No such record")
    needs_code = any(True for _ in devices_for_user(request.user, confirmed=True))
    form = SignForm(request.POST or None, needs_code=needs_code)
    if request.method == "POST" and form.is_valid():
        try:
            signature = signature_services.sign_record(
                record=record,
                meaning=form.cleaned_data["meaning"],
                signer=request.user,
                password=form.cleaned_data["password"],
                otp_token=form.cleaned_data.get("otp_token", ""),
                request=request,
            )
        except ValidationError as error:
            for name, errors in error.message_dict.items():
                target = name if name in form.fields else None
                for text in errors:
                    form.add_error(target, text)
        else:
            messages.success(
                request,
                f"Signed ({signature.get_meaning_display()}) by {signature.signer_name} at "
                f"{signature.signed_at:%Y-%m-%d %H:%M:%S} UTC.",
            )
            return redirect(_safe_next(request) or request.path)
    kind = signature_services.signable_kind(record)
    return render(
        request,
        "planner/signature_form.html",
        {
            "form": form,
            "record": record,
            "kind": kind,
            "content_hash": signature_services.content_hash(record),
            "signatures": signature_services.signatures_for(record),
            "next": _safe_next(request) or "",
            "status": 400 if form.errors else 200,
        },
        status=400 if form.errors else 200,
    )
