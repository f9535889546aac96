"""spanscope: find out why requests through microservices are slow or failing, from traces.

Data flows one way (see DESIGN.md): formats -> model -> assembly -> analysis -> report/viz/store.
Beside analysis, over the same assembled traces: ``quality`` (instrumentation rules, ``spanscope
lint``) and ``compare`` (two analyses set side by side, ``spanscope diff``); ``sampling`` decides
which traces to keep; ``server`` receives, stores and serves them; ``propagation`` checks the
context headers between services.
"""

from __future__ import annotations

__version__ = "0.1.0"
