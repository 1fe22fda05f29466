"""Instrument file parsers: bytes in, frozen dataclasses out. Never imports Django.

``plates`` reads plate-reader exports (ELISA readings), ``flowjo`` reads FlowJo tables and
workspaces, ``fcs`` reads FCS file metadata. Every parser raises
:class:`~labnotes.importers.errors.ImportFileError` for a file it cannot read, with a message that
names the line and field, so the upload page can show it to the scientist unchanged.
"""
