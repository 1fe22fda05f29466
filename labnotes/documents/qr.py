"""QR codes as inline SVG for the printed documents."""

from __future__ import annotations

import io

import segno

# ISO/IEC 18004 asks for a four-module quiet zone; keeping it inside the SVG means the layout
# cannot crowd the code with text or a cut line.
QUIET_ZONE_MODULES = 4


def qr_svg(url: str) -> str:
    """Return ``url`` as a QR code: one ``<svg>`` element sized by its viewBox (one unit = one
    module), black on transparent, error correction M (raised when the version allows).

    The element carries no width or height: the template sizes it, so a code fits any label.
    """
    code = segno.make(url, error="m", micro=False, boost_error=True)
    buffer = io.BytesIO()
    code.save(
        buffer,
        kind="svg",
        xmldecl=False,
        svgns=True,
        nl=False,
        omitsize=True,
        border=QUIET_ZONE_MODULES,
        dark="#000",
        svgclass="qr",
        lineclass=None,
    )
    return buffer.getvalue().decode("utf-8")
