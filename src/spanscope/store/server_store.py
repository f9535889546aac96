"""A running ``spanscope serve``'s store, read over HTTP: ``ServerStore("http://host:16686")``.

DuckDB lets one process open a store file while it writes, so a second process cannot read the
store that ``spanscope serve`` holds. ``ServerStore`` implements the reads of the ``Store``
protocol (``spanscope.store.base``) by asking that server (``spanscope.server.store_api``; a
search's traces come a page of 1,000 at a time):
answers are the server store's own, field for field, so ``spanscope query`` and ``analyze --db``
print the same thing either way. It is read-only: ``write`` and ``enforce_retention`` raise
``StoreError`` (spans go to the server's receivers). A server older than ``sample_trace_ids``
answers it with "unknown store method": its samples are then the newest matching traces
(``find_trace_ids``), and the count of matches it returns is None when more matched, for the
caller to say so.

``open_store("http://...")`` returns one. ``serving_url(path)`` tells whether a store file is
held by a server on this machine, and where it answers: ``spanscope serve`` writes
``<store>.server.json`` (its UI address and process id) when it starts listening and removes it
when it stops (``announce_serving``); a file left by a killed server is ignored once its process
is gone or the address does not answer.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import httpx
import msgspec

from spanscope.model import Span, SpanKind
from spanscope.store.base import StoreClosedError, StoreError, StoreStats, TraceQuery
from spanscope.store.metrics_sql import MetricsQuery, MetricsSeries, MetricsSummary

SERVING_SUFFIX = ".server.json"
# A search of thousands of traces is encoded by the server in one piece: give it time.
_TIMEOUT = httpx.Timeout(300.0, connect=5.0)


class _Found(msgspec.Struct):
    trace_ids: list[str]
    otlp: bytes


# traces a get_traces call asks for (the server's MAX_TRACES_A_CALL)
_PAGE = 1_000


class _UnknownMethod(StoreError):
    """The server has no such store method: it is older than this client."""


class ServerStore:
    """The store of the spanscope server at ``url`` (its UI and API address)."""

    read_only = True

    def __init__(self, url: str) -> None:
        self.location = url.rstrip("/")
        # The server cannot sample (older than sample_trace_ids): a "sample" is the newest.
        self._cannot_sample = False
        self._client: httpx.Client | None = httpx.Client(base_url=self.location, timeout=_TIMEOUT)

    def __enter__(self) -> ServerStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _call(self, method: str, answer_type: Any, **arguments: Any) -> Any:
        if self._client is None:
            raise StoreClosedError(f"{self.location}: the store was closed")
        try:
            response = self._client.post(
                f"/api/v1/store/{method}",
                content=msgspec.msgpack.encode(arguments),
                headers={"content-type": "application/msgpack"},
            )
        except httpx.HTTPError as exc:
            raise StoreError(
                f"{self.location}: no spanscope server answers there ({exc}); is "
                "'spanscope serve' running, with its UI on that port?"
            ) from None
        if response.status_code == 404 and "store method" not in response.text:
            raise StoreError(
                f"{self.location}: not a spanscope server, or one too old to share its store "
                "(no /api/v1/store)"
            )
        if response.status_code == 404 and f"unknown store method {method!r}" in response.text:
            raise _UnknownMethod(f"{self.location}: {method}: {_error_text(response)}")
        if response.status_code != 200:
            raise StoreError(f"{self.location}: {method}: {_error_text(response)}")
        if response.headers.get("content-type") != "application/msgpack":
            raise StoreError(f"{self.location}: not a spanscope server (its answer is not ours)")
        try:
            return msgspec.msgpack.decode(response.content, type=answer_type)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            raise StoreError(f"{self.location}: {method}: a garbled answer ({exc})") from None

    def get_trace(self, trace_id: str) -> list[Span]:
        found = self.get_traces([trace_id])
        return found[0] if found else []

    def get_traces(self, trace_ids: Sequence[str]) -> list[list[Span]]:
        """Page by page (``_PAGE`` traces a call), so that no answer of the server holds more
        than a page: its memory is its receivers' too."""
        from spanscope.model import normalize_trace_id

        ids = list(dict.fromkeys(normalize_trace_id(trace_id) for trace_id in trace_ids))
        traces: list[list[Span]] = []
        for first in range(0, len(ids), _PAGE):
            page = ids[first : first + _PAGE]
            found = self._call("get_traces", _Found, trace_ids=page)
            by_trace: dict[str, list[Span]] = {trace_id: [] for trace_id in found.trace_ids}
            for span in _decode(found.otlp, self.location):
                by_trace[span.trace_id].append(span)
            traces.extend(_in_store_order(spans) for spans in by_trace.values())
        return traces

    def services(self) -> list[str]:
        return self._call("services", list[str])

    def operations(
        self, service: str, span_kind: SpanKind | None = None
    ) -> list[tuple[str, SpanKind]]:
        return self._call(
            "operations", list[tuple[str, SpanKind]], service=service, span_kind=span_kind
        )

    def find_trace_ids(self, query: TraceQuery) -> list[str]:
        return self._call("find_trace_ids", list[str], query=query)

    def find_traces(self, query: TraceQuery) -> list[list[Span]]:
        return self.get_traces(self.find_trace_ids(query))

    def sample_trace_ids(self, query: TraceQuery) -> tuple[list[str], int | None]:
        """The server's sample; from a server older than samples, the newest matching traces.
        Such a server cannot count the matches: one trace more is asked for, and ``matched``
        is None when it came (more match, the newest were read), else their number (every
        match was read)."""
        if not self._cannot_sample:
            try:
                return self._call("sample_trace_ids", tuple[list[str], int], query=query)
            except _UnknownMethod:
                self._cannot_sample = True
        wanted = query.num_traces
        ids = self.find_trace_ids(dataclasses.replace(query, num_traces=wanted + 1))
        return ids[:wanted], None if len(ids) > wanted else len(ids)

    def dependencies(
        self, end_ns: int, lookback_ns: int, include_self_calls: bool = False
    ) -> list[tuple[str, str, int]]:
        return self._call(
            "dependencies",
            list[tuple[str, str, int]],
            end_ns=end_ns,
            lookback_ns=lookback_ns,
            include_self_calls=include_self_calls,
        )

    def metrics_series(self, query: MetricsQuery) -> list[MetricsSeries]:
        return self._call("metrics_series", list[MetricsSeries], query=query)

    def metrics_summary(self, query: MetricsQuery) -> list[MetricsSummary]:
        return self._call("metrics_summary", list[MetricsSummary], query=query)

    def metrics_summary_and_series(
        self, query: MetricsQuery
    ) -> tuple[list[MetricsSummary], list[MetricsSeries]]:
        return self._call(
            "metrics_summary_and_series",
            tuple[list[MetricsSummary], list[MetricsSeries]],
            query=query,
        )

    def stats(self) -> StoreStats:
        return self._call("stats", StoreStats)

    def write(self, spans: Sequence[Span]) -> None:
        raise StoreError(
            f"{self.location}: a running server's store is read-only from here; send spans to "
            "its receivers (e.g. 'spanscope load')"
        )

    def enforce_retention(
        self, max_age_ns: int | None = None, max_bytes: int | None = None, now_ns: int | None = None
    ) -> int:
        raise StoreError(f"{self.location}: retention is the running server's own (--retention)")

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None


def _decode(otlp: bytes, location: str) -> list[Span]:
    from spanscope.formats import decode_spans

    try:
        return list(decode_spans(otlp, "otlp-proto", source=location))
    except Exception as exc:  # an InputError naming the place; keep the server's name on it
        raise StoreError(f"{location}: a garbled answer ({exc})") from None


def _in_store_order(spans: list[Span]) -> list[Span]:
    """``get_trace``'s order: by start, then span id."""
    spans.sort(key=lambda span: (span.start_ns, span.span_id))
    return spans


def _error_text(response: httpx.Response) -> str:
    try:
        return str(response.json()["error"]["message"])
    except (ValueError, KeyError, TypeError):
        return f"HTTP {response.status_code}"


# --- which server holds a store file -------------------------------------------------------


def serving_file(store_path: str | os.PathLike) -> str:
    return os.fspath(store_path) + SERVING_SUFFIX


@contextmanager
def announce_serving(store_path: str | os.PathLike, url: str) -> Iterator[None]:
    """While the block runs, ``<store>.server.json`` says that this process serves the store
    at ``url``."""
    path = serving_file(store_path)
    # Whole or not at all: a reader must never see half a file.
    partial = f"{path}.{os.getpid()}.tmp"
    with open(partial, "w", encoding="utf-8") as file:
        json.dump({"url": url, "pid": os.getpid()}, file)
    os.replace(partial, path)
    try:
        yield
    finally:
        try:
            with open(path, encoding="utf-8") as file:
                ours = json.load(file).get("pid") == os.getpid()
        except (OSError, ValueError, AttributeError):
            ours = False
        if ours:  # a second server on the same file (refused by DuckDB) must not remove it
            os.unlink(path)


def serving_url(store_path: str | os.PathLike) -> str | None:
    """The address of the live spanscope server on this machine that holds the store file at
    ``store_path``, or None."""
    try:
        with open(serving_file(store_path), encoding="utf-8") as file:
            announced = json.load(file)
        url, pid = str(announced["url"]), int(announced["pid"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        pass  # alive, another user's
    try:
        answered = httpx.get(f"{url}/healthz", timeout=2.0).status_code == 200
    except httpx.HTTPError:
        answered = False
    return url if answered else None
