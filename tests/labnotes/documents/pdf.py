"""Reading rendered PDFs back: text with ``pdftotext -layout``, page counts, PNG snapshots."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from tests.support.requirements import REPO_ROOT, require_executable

SCREENSHOT_DIR = REPO_ROOT / "var" / "screenshots"


def pdf_text(pdf: bytes, tmp_path: Path, name: str = "document", *, layout: bool = True) -> str:
    """The PDF's text laid out as on the page (or in reading order, a table cell's lines
    together, with ``layout=False``); pages separated by form feeds."""
    pdftotext = require_executable("pdftotext", "sudo apt-get install poppler-utils")
    source = tmp_path / f"{name}.pdf"
    source.write_bytes(pdf)
    result = subprocess.run(
        [pdftotext, *(["-layout"] if layout else []), "-enc", "UTF-8", str(source), "-"],
        capture_output=True,
        check=True,
    )
    return result.stdout.decode("utf-8")


def pdf_links(pdf: bytes, tmp_path: Path) -> set[str]:
    """The URLs of the PDF's link annotations, as ``pdfinfo -url`` lists them."""
    pdfinfo = require_executable("pdfinfo", "sudo apt-get install poppler-utils")
    source = tmp_path / "links.pdf"
    source.write_bytes(pdf)
    result = subprocess.run(
        [pdfinfo, "-url", str(source)], capture_output=True, text=True, check=True
    )
    return {line.split()[-1] for line in result.stdout.splitlines()[1:] if line.strip()}


def pages(text: str) -> list[str]:
    """``pdftotext`` ends every page with a form feed."""
    return text.split("\f")[:-1]


def words(text: str) -> str:
    """Whitespace collapsed, for phrases that the layout may spread over several spaces."""
    return re.sub(r"\s+", " ", text)


def snapshot(pdf: bytes, name: str, *, first_page_only: bool = True) -> list[Path]:
    """Render the PDF to ``var/screenshots/<name>[-N].png`` at 60 dpi for a person to look at."""
    pdftoppm = require_executable("pdftoppm", "sudo apt-get install poppler-utils")
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    for old in SCREENSHOT_DIR.glob(f"{name}-*.png"):
        old.unlink()
    source = SCREENSHOT_DIR / f"{name}.pdf"
    source.write_bytes(pdf)
    limits = ["-f", "1", "-l", "1"] if first_page_only else []
    subprocess.run(
        [pdftoppm, "-png", "-r", "60", *limits, str(source), str(SCREENSHOT_DIR / name)],
        check=True,
    )
    source.unlink()
    return sorted(SCREENSHOT_DIR.glob(f"{name}-*.png"))
