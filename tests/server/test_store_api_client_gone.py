"""A store call whose client goes away has its reads stopped: the server neither searches on
for no one nor keeps the next caller waiting (its store API answers one call at a time)."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import msgspec
import pytest

from spanscope.store import open_store
from spanscope.store.read_group import ReadGroup, ReadsStoppedError
from tests.server.conftest import start_server, stop_server
from tests.store.slow_store import KEYS, copied

STOP_LIMIT_S = 3.0  # the search alone takes 15 s and more


def _post(base: str, method: str, timeout: float, **arguments: object) -> httpx.Response:
    return httpx.post(
        f"{base}/api/v1/store/{method}",
        content=msgspec.msgpack.encode(arguments),
        headers={"content-type": "application/msgpack"},
        timeout=timeout,
    )


def test_a_search_whose_client_left_stops_and_the_next_call_is_answered(
    slow_store: Path, tmp_path: Path
) -> None:
    db = copied(slow_store, tmp_path)
    running, thread = start_server(db)
    try:
        query = {"tags": {f"k{i}": "v" for i in range(KEYS)}, "num_traces": 20}
        with pytest.raises(httpx.ReadTimeout):
            _post(running.ui, "find_trace_ids", 1.0, query=query)  # gives up: Ctrl-C
        left = time.monotonic()
        while running.store._reads.running and time.monotonic() - left < 30:
            time.sleep(0.05)
        stopped = time.monotonic() - left
        assert not running.store._reads.running
        assert stopped < STOP_LIMIT_S, f"the search went on {stopped:.1f} s for no one"
        started = time.monotonic()
        answer = _post(running.ui, "services", 30.0)
        assert answer.status_code == 200, answer.text
        assert time.monotonic() - started < STOP_LIMIT_S
        assert msgspec.msgpack.decode(answer.content)  # the store's services, and it reads on
    finally:
        stop_server(running, thread)


def test_a_stopped_group_refuses_its_reads_and_no_others(slow_store: Path) -> None:
    with open_store(slow_store, read_only=True) as store:
        group = ReadGroup()
        group.stop()
        with store.reads_in(group), pytest.raises(ReadsStoppedError, match="reader went away"):
            store.services()
        assert store.services()  # outside the group, and later, reads go on
        assert not store._reads.running
