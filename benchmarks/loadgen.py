"""Load generator for the OTLP/HTTP receiver: several closed-loop senders of 512-span batches.

What it measures is the server, not the generator: every request body is encoded before the
clock starts (OTLP protobuf of synthetic shop spans, ``spanscope.synthetic.generate_spans``), so
the senders only copy bytes. To keep every span sent distinct without re-encoding, each trace id
in the pre-encoded pool starts with the same 8-byte placeholder; a send replaces it (one
``bytes.replace`` in C) with that request's own sequence number. A trace id is therefore
``<request seq, 16 hex>`` + ``<trace number in the pool, 16 hex>``, and the store can be checked
afterwards against exactly the requests that got a success answer (``expected_prefixes``).

Senders are threads on keep-alive ``http.client`` connections: they spend their time blocked on
the socket (no GIL held), each costs a few tens of microseconds of CPU per 512-span request, and
the whole generator's CPU time is reported so a reader can see how little of the two cores it
took. A 429 or 503 is a refusal: it is counted and the same body is retried after the server's
``Retry-After`` (or an exponential back-off when there is none), as OTLP exporters do.

Contract: ``prepare_pool`` builds the bodies; ``run_load`` sends until ``warmup + duration``
seconds have passed and returns a ``LoadResult`` whose rates and latencies cover only the
measured window (after the warm-up). Run standalone::

    python -m benchmarks.loadgen http://127.0.0.1:4318 --senders 8 --duration 30
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import random
import socket
import statistics
import subprocess
import threading
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import msgspec

BATCH_SPANS = 512
# The first 8 bytes of every trace id in the pool; chosen to be unlikely anywhere else in a body.
PLACEHOLDER = bytes.fromhex("5ca1ab1efacade01")
_MAX_BACKOFF_SECONDS = 5.0


@dataclass(frozen=True)
class Pool:
    """Pre-encoded OTLP protobuf request bodies, each with ``BATCH_SPANS`` spans."""

    bodies: list[bytes]
    spans_per_body: list[int]

    @property
    def spans(self) -> int:
        return sum(self.spans_per_body)


def prepare_pool(batches: int, seed: int = 7) -> Pool:
    """``batches`` bodies of 512 synthetic shop spans (traces may straddle two bodies, as
    they do behind an SDK's batch processor)."""
    from spanscope.formats import encode_spans
    from spanscope.synthetic import generate_spans

    wanted = batches * BATCH_SPANS
    ids: dict[str, str] = {}
    spans = []
    for span in generate_spans(wanted // 6 + 64, seed=seed):
        trace_id = ids.get(span.trace_id)
        if trace_id is None:
            trace_id = ids[span.trace_id] = PLACEHOLDER.hex() + f"{len(ids) + 1:016x}"
        spans.append(msgspec.structs.replace(span, trace_id=trace_id))
        if len(spans) == wanted:
            break
    if len(spans) < wanted:
        raise RuntimeError("the synthetic shop made fewer spans than asked for")
    bodies, counts = [], []
    for begin in range(0, wanted, BATCH_SPANS):
        chunk = spans[begin : begin + BATCH_SPANS]
        body = encode_spans(chunk, "otlp-proto")
        # TracesData and ExportTraceServiceRequest share field 1 (resource_spans), so the
        # file encoding is the request encoding.
        if body.count(PLACEHOLDER) < len(chunk):
            raise RuntimeError("a trace id placeholder is missing from an encoded body")
        bodies.append(body)
        counts.append(len(chunk))
    return Pool(bodies, counts)


@dataclass
class _Record:
    done: float  # perf_counter when the answer arrived
    latency: float
    status: int
    spans: int
    seq: int


@dataclass
class LoadResult:
    senders: int
    duration: float  # length of the measured window, seconds
    accepted_spans: int  # in the measured window
    spans_per_s: float
    p50_ms: float
    p99_ms: float
    refused_requests: int  # 429/503 answers, whole run
    refused_spans: int
    errors: int  # connection errors and other statuses, whole run
    total_accepted_spans: int  # whole run, warm-up included
    accepted_seqs: list[int] = field(repr=False)
    generator_cpu_s: float = 0.0
    wall_s: float = 0.0

    def expected_prefixes(self) -> set[str]:
        """The 16-hex-digit trace id prefixes the store must hold: one per accepted request."""
        return {f"{seq:016x}" for seq in self.accepted_seqs}

    def summary(self) -> dict:
        return {
            "senders": self.senders,
            "window_s": round(self.duration, 2),
            "spans_per_s": round(self.spans_per_s),
            "p50_ms": round(self.p50_ms, 2),
            "p99_ms": round(self.p99_ms, 2),
            "refused_requests": self.refused_requests,
            "refused_spans": self.refused_spans,
            "errors": self.errors,
            "accepted_spans_total": self.total_accepted_spans,
            "generator_cpu_s": round(self.generator_cpu_s, 2),
            "wall_s": round(self.wall_s, 2),
        }


def _backoff(attempt: int, response: http.client.HTTPResponse | None = None) -> float:
    """Seconds to wait before retrying: the server's ``Retry-After`` when it gave one, else an
    exponential back-off with jitter (so refused senders do not come back in step)."""
    header = response.getheader("Retry-After") if response is not None else None
    if header is not None:
        try:
            return min(float(header), _MAX_BACKOFF_SECONDS)
        except ValueError:
            pass
    return min(0.05 * 2**attempt, _MAX_BACKOFF_SECONDS) * random.uniform(0.5, 1.0)


class _Sender(threading.Thread):
    def __init__(self, url: str, pool: Pool, seqs, stop_at: float, offset: int) -> None:
        super().__init__(daemon=True)
        parts = urllib.parse.urlsplit(url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 4318
        self.path = (parts.path.rstrip("/") or "") + "/v1/traces"
        self.pool, self.seqs, self.stop_at, self.offset = pool, seqs, stop_at, offset
        self.records: list[_Record] = []
        self.errors = 0
        self.refused_requests = 0
        self.refused_spans = 0

    def _connect(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection(self.host, self.port, timeout=120)

    def run(self) -> None:
        headers = {"Content-Type": "application/x-protobuf"}
        connection = self._connect()
        bodies, counts = self.pool.bodies, self.pool.spans_per_body
        index = self.offset
        clock = time.perf_counter
        while clock() < self.stop_at:
            slot = index % len(bodies)
            index += 1
            seq = next(self.seqs)
            body = bodies[slot].replace(PLACEHOLDER, seq.to_bytes(8, "big"))
            spans = counts[slot]
            attempt = 0
            while clock() < self.stop_at:
                started = clock()
                try:
                    connection.request("POST", self.path, body, headers)
                    response = connection.getresponse()
                    response.read()
                except (OSError, http.client.HTTPException):
                    self.errors += 1
                    connection.close()
                    connection = self._connect()
                    time.sleep(_backoff(attempt))
                    attempt += 1
                    continue
                done = clock()
                status = response.status
                self.records.append(_Record(done, done - started, status, spans, seq))
                if status == 200:
                    break
                if status in (429, 503):
                    self.refused_requests += 1
                    self.refused_spans += spans
                    time.sleep(_backoff(attempt, response))
                    attempt += 1
                    continue
                self.errors += 1  # a permanent error: do not retry this body
                break
        connection.close()


def _percentile(values: list[float], fraction: float) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=1000, method="inclusive")[round(fraction * 1000) - 1]


def run_load(
    url: str, pool: Pool, senders: int = 8, duration: float = 30.0, warmup: float = 3.0
) -> LoadResult:
    """Send from ``senders`` threads for ``warmup + duration`` seconds; measure the last
    ``duration`` seconds. ``url`` is the receiver's base URL (``/v1/traces`` is added)."""
    seqs = itertools.count(random.getrandbits(40) + 1)  # fresh prefixes on every run
    cpu_before = time.process_time()
    begin = time.perf_counter()
    window_start = begin + warmup
    stop_at = window_start + duration
    step = max(1, len(pool.bodies) // senders)
    threads = [_Sender(url, pool, seqs, stop_at, n * step) for n in range(senders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - begin
    cpu = time.process_time() - cpu_before
    records = [record for thread in threads for record in thread.records]
    accepted = [record for record in records if record.status == 200]
    in_window = [record for record in accepted if window_start <= record.done <= stop_at]
    latencies = sorted(record.latency * 1000 for record in in_window)
    window_spans = sum(record.spans for record in in_window)
    return LoadResult(
        senders=senders,
        duration=duration,
        accepted_spans=window_spans,
        spans_per_s=window_spans / duration,
        p50_ms=_percentile(latencies, 0.5),
        p99_ms=_percentile(latencies, 0.99),
        refused_requests=sum(thread.refused_requests for thread in threads),
        refused_spans=sum(thread.refused_spans for thread in threads),
        errors=sum(thread.errors for thread in threads),
        total_accepted_spans=sum(record.spans for record in accepted),
        accepted_seqs=[record.seq for record in accepted],
        generator_cpu_s=cpu,
        wall_s=wall,
    )


def free_port() -> int:
    """A loopback port free right now (for a server started next)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_healthy(process: subprocess.Popen, url: str, log: Path) -> None:
    """Wait until the server at ``url`` answers ``/healthz``; raise with its log if it dies."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited at start:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"server did not answer /healthz within 60 s:\n{log.read_text()}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("url", help="receiver base URL, e.g. http://127.0.0.1:4318")
    parser.add_argument("--senders", type=int, default=8)
    parser.add_argument("--duration", type=float, default=30.0)
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--pool", type=int, default=256, help="distinct bodies to cycle through")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    pool = prepare_pool(args.pool)
    print(f"encoded {pool.spans:,} spans in {time.perf_counter() - started:.1f} s", flush=True)
    result = run_load(args.url, pool, args.senders, args.duration, args.warmup)
    for key, value in result.summary().items():
        print(f"{key:>22}: {value}")


if __name__ == "__main__":
    main()
