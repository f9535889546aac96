"""RED metrics over HTTP, computed from the stored spans (``spanscope.store.metrics_sql``): the
routes ``spanscope serve`` adds when its store can answer metrics queries.

Three modules, one concept each:

- ``jaeger_metrics_api``: Jaeger's metrics API (``/api/metrics/{calls,errors,latencies,
  minstep}``), for Jaeger UI's Monitor tab and scripts written for it;
- ``monitor_api``: spanscope's own endpoints for the Monitor page (``/api/v1/monitor``,
  ``/api/v1/monitor/operations``), one call per view;
- ``metrics_params``: the query parameters both parse and the Jaeger error envelope both answer
  bad ones with (400 naming the parameter, never a traceback).

``MetricsApi`` puts the two route sets together over one store and one clock.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from starlette.routing import Route

from spanscope.server.jaeger_metrics_api import JaegerMetricsApi
from spanscope.server.monitor_api import MonitorApi


class MetricsApi:
    """The metrics routes over a store with ``metrics_series``/``metrics_summary``."""

    def __init__(self, store, now_ns: Callable[[], int] = time.time_ns) -> None:
        self.store = store
        self.now_ns = now_ns

    def routes(self) -> list[Route]:
        return [
            *JaegerMetricsApi(self.store, self.now_ns).routes(),
            *MonitorApi(self.store, self.now_ns).routes(),
        ]
