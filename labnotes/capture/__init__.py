"""The measurement grid's pure core: what a typed or wedge-sent cell means, and the checks on it.

Never imports Django (an import-linter contract says so): text and numbers in, frozen
dataclasses out, so the same rules serve the grid endpoint, the API, transcription and imports.
``parsing`` reads one cell; ``checks`` judges a parsed value against the animal's history and
the protocol's limits. The browser half is ``static/js/grid.js``; the contract between the two
is in ``GRID.md`` next to this file.
"""
