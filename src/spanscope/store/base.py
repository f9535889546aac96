"""What every trace store offers: the ``Store`` protocol, ``TraceQuery``, ``StoreStats`` and the
store's errors. Backends (DuckDB, ClickHouse, and a running server's store read over HTTP,
``server_store``, which offers the reads only) implement the protocol; callers (the server,
``spanscope query``, ``analyze --db``) depend only on this module.

Contract of a store:

- ``write(spans)`` stores one batch atomically and durably: when it returns, the spans survive a
  crash or ``kill -9`` of the process. It does not keep or change ``spans``. One thread writes
  (the server's writer); queries may run on other threads at the same time and see whole
  batches only.
- Spans come back with every field the model has, as they were written. ``get_trace`` returns
  the spans of one trace sorted by ``(start_ns, span_id)``; a span written twice comes back twice
  (the store does not de-duplicate; assembly does).
- Times are integers in nanoseconds since the epoch, durations in nanoseconds.
- Search follows Jaeger's storage semantics (see ``TraceQuery``) and returns the most recent
  matching traces first.
- A sample (``sample_trace_ids``), for the analyses of a window, matches as a search does but
  takes the matching traces with the smallest sample keys (``codec.sample_key``, random in W3C
  and Jaeger/Zipkin ids), so a sample cut by its limit is spread over the
  whole window, the same traces on every engine; it says how many traces match in all.
- ``close()`` is safe to call twice; any other call after it raises ``StoreClosedError``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from spanscope.errors import SpanscopeError
from spanscope.model import Span, SpanKind

if TYPE_CHECKING:
    from spanscope.store.metrics_sql import MetricsQuery, MetricsSeries, MetricsSummary

DEFAULT_NUM_TRACES = 20


class StoreError(SpanscopeError):
    """A store could not be opened or used; the message says what to do."""


class StoreLockedError(StoreError):
    """The store file is open for writing in another process (DuckDB allows one writer)."""


class SchemaVersionError(StoreError):
    """The store was written by a spanscope whose schema this one cannot read or migrate."""


class StoreClosedError(StoreError):
    """The store was used after ``close()``."""


@dataclass(frozen=True, slots=True)
class TraceQuery:
    """A trace search, with Jaeger's storage semantics.

    A trace matches when ONE of its spans satisfies every condition given: its service is
    ``service``, its name is ``operation``, its kind is ``span_kind``, it starts within
    ``[start_time_min, start_time_max]``, its duration is within ``[duration_min,
    duration_max]``, and each of ``tags`` is found on it. A tag ``key=value`` is found when
    ``key`` has the text ``value`` in the span's attributes, its resource's attributes (Jaeger's
    process tags), its scope's attributes, or the attributes of one of its events (Jaeger's log
    fields) or links; values compare as text (``123``, ``72.5``, ``true``). Tags may be found in
    different places of that span. Jaeger's special keys also work: ``error=true`` matches a span
    that failed as ``analyze`` counts it (``analysis.errors.is_error_span``: status ERROR, an
    ``error`` tag, HTTP 5xx, a gRPC status other than OK, an exception event), ``span.kind``
    and ``span.status`` the span's kind and status, ``scope.name``/``scope.version`` its scope,
    ``resource.KEY`` a resource attribute.

    ``None`` (or an empty string) means "no condition". Times and durations are nanoseconds.
    ``num_traces`` caps how many traces come back: the most recent first from a search, those
    with the smallest sample keys from a sample (``Store.sample_trace_ids``).
    """

    service: str | None = None
    operation: str | None = None
    span_kind: SpanKind | None = None
    tags: dict[str, str] = field(default_factory=dict)
    start_time_min: int | None = None
    start_time_max: int | None = None
    duration_min: int | None = None
    duration_max: int | None = None
    num_traces: int = DEFAULT_NUM_TRACES

    def __post_init__(self) -> None:
        if self.num_traces <= 0:
            raise ValueError(f"num_traces must be positive, got {self.num_traces}")
        for name in ("start_time_min", "start_time_max", "duration_min", "duration_max"):
            value = getattr(self, name)
            if value is not None and value < 0:
                raise ValueError(f"{name} must not be negative, got {value}")
        for key, value in self.tags.items():
            if not isinstance(key, str) or not isinstance(value, str):
                raise ValueError(f"tags must map text to text, got {key!r}: {value!r}")


@dataclass(frozen=True, slots=True)
class StoreStats:
    """How much a store holds. ``used_bytes`` is what the data occupies (what size-based
    retention compares with its limit); ``file_bytes`` is the size on disk, which may stay at
    its high-water mark after deletions (freed space inside the file is reused)."""

    spans: int
    traces: int
    oldest_ns: int | None
    newest_ns: int | None
    file_bytes: int
    used_bytes: int
    schema_version: int


@runtime_checkable
class Store(Protocol):
    """A trace store. See the module docstring for the contract."""

    def write(self, spans: Sequence[Span]) -> None:
        """Store ``spans`` as one atomic, durable batch."""
        ...

    def get_trace(self, trace_id: str) -> list[Span]:
        """The spans of one trace sorted by (start, span id); ``[]`` if the store has none.
        Raises ``spanscope.model.InvalidIdError`` (a ValueError) for a malformed id."""
        ...

    def services(self) -> list[str]:
        """Every service name in the store, sorted."""
        ...

    def operations(
        self, service: str, span_kind: SpanKind | None = None
    ) -> list[tuple[str, SpanKind]]:
        """``(span name, kind)`` pairs seen for ``service``, sorted; only ``span_kind`` if given."""
        ...

    def find_trace_ids(self, query: TraceQuery) -> list[str]:
        """Ids of the traces matching ``query``, at most num_traces, ordered by each trace's
        newest matching span, newest first (ties by id)."""
        ...

    def find_traces(self, query: TraceQuery) -> list[list[Span]]:
        """The traces matching ``query`` (each as ``get_trace`` returns it), most recent first."""
        ...

    def sample_trace_ids(self, query: TraceQuery) -> tuple[list[str], int | None]:
        """Ids of the traces matching ``query`` (as ``find_trace_ids`` matches them) with the
        smallest sample keys (``codec.sample_key``; ties by id), at most num_traces; and how many
        traces match in all (None from a ``ServerStore`` whose server is too old to sample:
        more matched, the ids are the newest of them). When every matching trace fits, that is
        all of them; otherwise a sample spread over the window, the same one on every engine.
        The ids come oldest first (by the first start the store's read saw of each, ties by
        id), so that a page of them is read from one stretch of time."""
        ...

    def get_traces(self, trace_ids: Sequence[str]) -> list[list[Span]]:
        """The traces of ``trace_ids`` the store has (each as ``get_trace`` returns it), in the
        order of ``trace_ids``; one read for all. Raises ``InvalidIdError`` for a bad id."""
        ...

    def dependencies(
        self, end_ns: int, lookback_ns: int, include_self_calls: bool = False
    ) -> list[tuple[str, str, int]]:
        """``(parent service, child service, call count)`` over the parent/child span pairs
        whose child starts in ``[end_ns - lookback_ns, end_ns]``, sorted by parent, child.
        Calls within one service are left out unless ``include_self_calls``."""
        ...

    def metrics_series(self, query: MetricsQuery) -> list[MetricsSeries]:
        """Calls, errors and latency quantiles per time bucket, per service (and operation);
        see ``spanscope.store.metrics_sql``."""
        ...

    def metrics_summary(self, query: MetricsQuery) -> list[MetricsSummary]:
        """The same figures over the whole window, with each row's share of the latency."""
        ...

    def metrics_summary_and_series(
        self, query: MetricsQuery
    ) -> tuple[list[MetricsSummary], list[MetricsSeries]]:
        """``metrics_summary`` and ``metrics_series`` at once, from one scan of the window."""
        ...

    def enforce_retention(
        self,
        max_age_ns: int | None = None,
        max_bytes: int | None = None,
        now_ns: int | None = None,
    ) -> int:
        """Delete whole traces: those whose newest span started more than ``max_age_ns`` before
        ``now_ns`` (default: the clock), then the traces that ended longest ago until the data
        fits in ``max_bytes``. Returns how many spans were deleted. Meant to be called
        periodically (e.g. every minute) by the process that writes."""
        ...

    def stats(self) -> StoreStats: ...

    def close(self) -> None:
        """Release the store. Safe to call twice."""
        ...

    def __enter__(self) -> Store: ...

    def __exit__(self, *exc_info: object) -> None:
        """``close()``."""
        ...
