"""spanscope: find out why requests through microservices are slow or failing, from traces.

Data flows one way (see DESIGN.md): formats -> model -> assembly -> analysis -> report/viz/store.
"""

from __future__ import annotations

__version__ = "0.1.0"
