"""The one order of the ``Trace`` contract: by start time, ties broken by span id.

``spans``, every ``children`` list and each group of ``roots`` are kept in this order, so that
every consumer walks a trace the same way and output is reproducible.
"""

from __future__ import annotations

from operator import attrgetter

# ``start_key(span) == (span.start_ns, span.span_id)``; attrgetter builds the tuple in C, which
# matters when sorting a million spans.
start_key = attrgetter("start_ns", "span_id")
