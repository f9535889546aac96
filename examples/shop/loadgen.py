"""Load generator: carts sent to the frontend's ``POST /api/checkout`` for a while.

``drive(url, seconds, rate, workers)`` sends about ``rate`` requests per second from ``workers``
threads (fewer when the shop is slower than that) and returns a ``LoadResult``. Carts hold 2 to
9 items, so most reservations make inventory's N+1 visible (5 or more queries). Like a browser,
the load generator is not traced: the frontend's SERVER span is each trace's root.
"""

from __future__ import annotations

import json
import random
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field


@dataclass
class LoadResult:
    requests: int = 0
    ok: int = 0
    failed: dict[int, int] = field(default_factory=dict)  # status (0: no answer) -> count
    seconds: float = 0.0

    def summary(self) -> str:
        failed = ", ".join(
            f"{count} x {status or 'no answer'}" for status, count in self.failed.items()
        )
        rate = self.requests / self.seconds if self.seconds else 0.0
        return f"{self.requests} requests in {self.seconds:.1f}s ({rate:.1f}/s): {self.ok} ok" + (
            f", failed: {failed}" if failed else ""
        )


def _send(url: str, items: list[int]) -> int:
    data = json.dumps({"items": items}).encode()
    request = urllib.request.Request(
        url, data=data, headers={"Content-Type": "application/json"}, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=15) as response:
            response.read()
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return 0


def drive(
    url: str, seconds: float, rate: float = 25.0, workers: int = 4, seed: int | None = None
) -> LoadResult:
    """Send carts to ``url`` (the frontend's checkout endpoint) for ``seconds``."""
    result = LoadResult()
    lock = threading.Lock()
    rng = random.Random(seed)
    started = time.monotonic()
    deadline = started + seconds
    interval = 1.0 / rate
    next_slot = [started]

    def worker() -> None:
        while True:
            with lock:
                slot = next_slot[0]
                next_slot[0] = max(slot, time.monotonic()) + interval
                items = rng.sample(range(1, 101), rng.randint(2, 9))
            if slot >= deadline:
                return
            time.sleep(max(0.0, slot - time.monotonic()))
            status = _send(url, items)
            with lock:
                result.requests += 1
                if status == 200:
                    result.ok += 1
                else:
                    result.failed[status] = result.failed.get(status, 0) + 1

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    result.seconds = time.monotonic() - started
    return result
