"""The PDF: the report's HTML laid out by WeasyPrint with the print rules of its stylesheet."""

from __future__ import annotations

import io

from weasyprint import HTML, URLFetcher


def render_pdf(document: str) -> bytes:
    """Lay out ``document`` (self-contained HTML, CSS and SVG inline) and return the PDF bytes.

    The report needs nothing outside the string, so every fetch is refused: no printed value
    (an arm name, a note) can make the renderer read a local file or reach the network.
    """
    no_fetching = URLFetcher(allowed_protocols=())
    output = io.BytesIO()
    HTML(string=document, base_url=None, url_fetcher=no_fetching).write_pdf(output)
    return output.getvalue()


__all__ = ["render_pdf"]
