"""A batch is on disk when ``write`` returns: it survives ``kill -9`` of the writing process.
While that process has the store open, another process gets a clear "locked" error."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

import pytest

from spanscope.store import StoreLockedError, open_store

WRITER = textwrap.dedent(
    """
    import sys
    from spanscope.model import Span
    from spanscope.store import open_store

    store = open_store(sys.argv[1])
    size = int(sys.argv[2])
    batch = 0
    while True:
        batch += 1
        spans = [
            Span(
                trace_id=f"{batch:032x}",
                span_id=f"{index + 1:016x}",
                name="op",
                start_ns=1_700_000_000_000_000_000 + batch * 1000 + index,
                end_ns=1_700_000_000_000_000_000 + batch * 1000 + index + 10,
                service_name="writer",
                attributes={"batch": batch, "index": index},
            )
            for index in range(size)
        ]
        store.write(spans)
        print(batch, flush=True)  # acknowledged: the spans must survive from here on
    """
)


# Small batches go through DuckDB's write-ahead log; batches of more than a row group (16,384
# rows) are written to the database file before the commit: both paths must be durable.
@pytest.mark.parametrize(("size", "batches"), [(500, 15), (20_000, 3)])
def test_acknowledged_batches_survive_sigkill(tmp_path, size, batches):
    path = tmp_path / "traces.duckdb"
    child = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(path), str(size)],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    try:
        acknowledged = 0
        while acknowledged < batches:
            line = child.stdout.readline()
            assert line, f"writer died before acknowledging {batches} batches"
            acknowledged = int(line)
        with pytest.raises(StoreLockedError, match="another process"):
            open_store(path, read_only=True)
        child.send_signal(signal.SIGKILL)
    finally:
        child.kill()
        child.wait()
    with open_store(path) as store:  # replays the write-ahead log
        for batch in range(1, acknowledged + 1):
            spans = store.get_trace(f"{batch:032x}")
            assert len(spans) == size, f"batch {batch} lost spans after kill -9"
            assert {span.attributes["index"] for span in spans} == set(range(size))
        assert store.stats().spans >= acknowledged * size
