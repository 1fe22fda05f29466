"""Small pieces the run pages share."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError


def add_service_errors(form: forms.Form, error: ValidationError) -> None:
    """Put a service's ``ValidationError`` on the form: on the field it names when the form has
    that field, else as a form error prefixed with the name."""
    if hasattr(error, "error_dict"):
        for name, errors in error.error_dict.items():
            for item in errors:
                text = " ".join(item.messages)
                if name in form.fields:
                    form.add_error(name, text)
                else:
                    form.add_error(None, f"{name.replace('_', ' ')}: {text}")
    else:
        for message in error.messages:
            form.add_error(None, message)
