"""The one order of the ``Trace`` contract: by start time, ties broken by span id.

``spans``, every ``children`` list and each group of ``roots`` are kept in this order, so that
every consumer walks a trace the same way and output is reproducible.
"""

from __future__ import annotations

from spanscope.model import Span


def start_key(span: Span) -> tuple[int, str]:
    return (span.start_ns, span.span_id)
