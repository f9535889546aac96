"""Synthetic but realistic traces, for demos, tests and benchmarks.

Two modules, one concept each: ``trace_builder`` records one trace the way OpenTelemetry-
instrumented services do (ids, latencies, client/server pairs, SQL spans, all drawn from one
seeded generator); ``shop`` is a small online shop with problems planted on purpose, in its
current release and its next one (``next_release``), built with it.

Contract: ``generate_spans(traces, *, seed=42, start_ns=..., next_release=False)`` yields model
``Span``s trace by trace (all spans of a trace together, children after parents),
deterministic for a seed: the same seed gives the same spans, byte for byte once written.
"""

from __future__ import annotations

from spanscope.synthetic.shop import generate_spans

__all__ = ["generate_spans"]
