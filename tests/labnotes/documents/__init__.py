"""Tests of the document renderers (no database): PDFs read back with poppler's pdftotext."""
