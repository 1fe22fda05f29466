"""Lab-record pages, one module per resource. Thin: parse, call one service or selector, render."""

from labnotes.views.system import job_detail, outbound_messages, self_test, system

__all__ = ["job_detail", "outbound_messages", "self_test", "system"]
