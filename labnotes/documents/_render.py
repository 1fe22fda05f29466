"""Shared plumbing: package templates, escaping, formatting and the WeasyPrint call."""

from __future__ import annotations

import datetime as dt
import functools
import html
import importlib.resources
import io
from string import Template

from weasyprint import HTML, URLFetcher

_TEMPLATES = importlib.resources.files("labnotes.documents").joinpath("templates")


@functools.cache
def template(name: str) -> Template:
    """The ``string.Template`` in ``labnotes/documents/templates/<name>``.

    Substitution is strict (``substitute``): a placeholder left unfilled is a bug, not a blank.
    """
    text = _TEMPLATES.joinpath(name).read_text("utf-8")
    return Template(text)


def esc(value: object) -> str:
    """HTML-escape any value for text or a quoted attribute; ``None`` prints as nothing."""
    if value is None:
        return ""
    return html.escape(str(value), quote=True)


def iso_date(value: dt.date | None) -> str:
    return "" if value is None else value.isoformat()


def number(value: float | None, decimals: int = 1) -> str:
    return "" if value is None else f"{value:.{decimals}f}"


def html_to_pdf(document: str) -> bytes:
    """Lay out ``document`` (self-contained HTML with its CSS inline) and return the PDF bytes."""
    # Nothing the templates need lives outside the HTML string: refuse every fetch so that no
    # printed value can make the renderer read a file or reach the network.
    no_fetching = URLFetcher(allowed_protocols=())
    output = io.BytesIO()
    HTML(string=document, base_url=None, url_fetcher=no_fetching).write_pdf(output)
    return output.getvalue()
