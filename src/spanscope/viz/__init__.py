"""Visualise traces: an interactive HTML waterfall, SVG flame graphs and a service map.

Every output is self-contained (no network, no CDN, works from ``file://``) and computes no
analysis itself: critical path, self time, errors, dependencies and the critical-path profile
come from ``spanscope.analysis``; this package only lays them out and draws them.

- ``render_waterfall(traces)`` -> HTML page (``spanscope.viz.waterfall``);
- ``render_flamegraph(trace)`` / ``render_aggregate_flamegraph(stacks)`` -> SVG
  (``spanscope.viz.flamegraph``);
- ``render_servicemap_svg(traces)`` / ``render_servicemap_html(traces)``
  (``spanscope.viz.servicemap``).
"""

from __future__ import annotations
