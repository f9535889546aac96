"""The waterfall page with a 50,000-span trace in headless Chromium: open time and scrolling.

The trace: 6,250 synthetic shop requests (``spanscope.synthetic``) hung under one batch root, so
one trace of about 50k spans with real depth, fan-out, errors and critical path. Measured:
- building the page in Python (``render_waterfall``) and its size (summary vs details block);
- in Chromium, median of 5 fresh loads from ``file://``: time from navigation start until the
  page has drawn its first rows (the page marks it), and until the next frame is painted;
- scrolling: 300 animation frames scrolling the span list 3 rows per frame, then 100 frames of
  big jumps, recording each frame's duration (median, p95, max, frames over 50 ms) and the long
  tasks Chromium reports; then the cost of one scroll step on its own (our drawing plus style
  and layout, synchronously), which a busy shared machine distorts much less than frame times;
- search (a query matching thousands of spans) and collapse-all, as one interaction each;
- opening the span details panel for the first time on a fresh page (median of 5 loads): the
  click handler's time (our JS and the layout it asks for) and the time until the next frame
  is painted, once the page has parsed its details block in idle time ("warm", what a reader
  sees after a second) and right at first paint ("cold": the open parses the block itself);
  then the second open of the same page. With ``BENCH_WATERFALL_REF_SRC=<src folder>`` the
  same is measured, page load by page load in turn, on the page that the spanscope package in
  that folder builds (e.g. ``git worktree add /tmp/ref <commit>``, then ``/tmp/ref/src``), for
  a before/after from one run.

Target (DESIGN.md): the 50k-span trace drawn in under 2 s. Run standalone with
``python benchmarks/bench_waterfall.py`` or as ``python -m benchmarks waterfall``.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make ``benchmarks`` and ``spanscope`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.browser import launch  # the page tests' Chromium, launched the same way

from benchmarks.common import save

SPANS = int(os.environ.get("BENCH_WATERFALL_SPANS", 50_000))
LOADS = 5


def big_trace(spans: int):
    """One trace of about ``spans`` spans: synthetic requests under a batch root."""
    from spanscope.assembly import build_trace
    from spanscope.model import Span, SpanKind
    from spanscope.synthetic import generate_spans

    trace_id = "5ca1ab1e" * 4
    root_id = "00000000000000b1"
    collected: list[Span] = []
    for span in generate_spans(spans // 8, seed=17):
        span.trace_id = trace_id
        if not span.parent_span_id:
            span.parent_span_id = root_id
        collected.append(span)
        if len(collected) >= spans - 1:
            break
    start = min(s.start_ns for s in collected)
    end = max(s.end_ns for s in collected)
    collected.append(
        Span(
            trace_id,
            root_id,
            "nightly replay",
            start - 1_000_000,
            end + 1_000_000,
            kind=SpanKind.INTERNAL,
            service_name="batch",
        )
    )
    return build_trace(trace_id, collected)


_SCROLL = """
async ([frames, mode]) => {
  const rows = document.getElementById('rows');
  const max = rows.scrollHeight - rows.clientHeight;
  rows.scrollTop = 0;
  await new Promise(r => requestAnimationFrame(r));
  // Long tasks (main-thread work over 50 ms) say whether our code stalls, whatever the
  // frame clock of a busy headless machine does.
  const longTasks = [];
  const observer = new PerformanceObserver(list => {
    for (const entry of list.getEntries()) longTasks.push(entry.duration);
  });
  observer.observe({entryTypes: ['longtask']});
  const times = [];
  let last = performance.now(), k = 0;
  const result = await new Promise(resolve => {
    function step(now) {
      times.push(now - last); last = now;
      if (++k >= frames) return resolve(times);
      if (mode === 'smooth') rows.scrollTop = Math.min(max, rows.scrollTop + 72);
      else rows.scrollTop = Math.floor(((k * 7919) % 1000) / 1000 * max);
      requestAnimationFrame(step);
    }
    requestAnimationFrame(step);
  });
  await new Promise(r => setTimeout(r, 50));
  observer.disconnect();
  return [result, longTasks];
}
"""

_DRAW_COST = """
([steps, px]) => {
  const rows = document.getElementById('rows');
  const costs = [];
  rows.scrollTop = 0;
  for (let k = 0; k < steps; k++) {
    rows.scrollTop = px > 0 ? rows.scrollTop + px
      : Math.floor(((k * 7919) % 1000) / 1000 * (rows.scrollHeight - rows.clientHeight));
    costs.push(window.spanscope.drawNow());
  }
  return costs;
}
"""

_FIRST_PAINT = """
() => new Promise(r => requestAnimationFrame(() => setTimeout(() => r(performance.now()))))
"""

_SEARCH = """
(query) => {
  const input = document.getElementById('search');
  input.value = query;
  const t0 = performance.now();
  input.dispatchEvent(new KeyboardEvent('keydown', {key: 'Enter', bubbles: true}));
  const t1 = performance.now();
  return [t1 - t0, window.spanscope.state().matches];
}
"""


_OPEN_DETAILS = """
(row) => new Promise(resolve => {
  const label = document.querySelector('#rows .row[data-row="' + row + '"] .label');
  const t0 = performance.now();
  label.click();
  const t1 = performance.now();
  requestAnimationFrame(() => setTimeout(() => resolve([t1 - t0, performance.now() - t0])));
})
"""

_DETAILS_PARSED = """
() => new Promise(resolve => {
  (function poll() {
    if (window.spanscope.state().searchReady) resolve(performance.now());
    else setTimeout(poll, 50);
  })();
})
"""


def _open_details(browser, path: Path, warm: bool) -> tuple[list[float], list[float]]:
    """On a fresh page: [handler ms, to-paint ms] of the first details open, then of the
    second (after closing the panel)."""
    page = browser.new_page(viewport={"width": 1440, "height": 900})
    page.goto(path.as_uri())
    page.wait_for_selector("body[data-ready='1']", state="attached", timeout=60_000)
    page.evaluate(_FIRST_PAINT)
    if warm:
        page.evaluate(_DETAILS_PARSED)
        page.evaluate(_FIRST_PAINT)
    first = page.evaluate(_OPEN_DETAILS, 5)
    page.evaluate("() => document.getElementById('details-close').click()")
    page.evaluate(_FIRST_PAINT)
    second = page.evaluate(_OPEN_DETAILS, 9)
    page.close()
    return first, second


_BUILD_REFERENCE = """
import sys
from benchmarks.bench_waterfall import big_trace
from spanscope.viz.waterfall import render_waterfall
with open(sys.argv[1], "w", encoding="utf-8") as out:
    out.write(render_waterfall([big_trace(int(sys.argv[2]))]))
"""


def _reference_page(source: Path, tmp: Path) -> Path:
    """The same trace's page built by the spanscope package in ``source`` (a ``src`` folder,
    e.g. of ``git worktree add`` at another commit), in a child process."""
    path = tmp / "reference.html"
    env = {**os.environ, "PYTHONPATH": str(source)}
    root = Path(__file__).resolve().parent.parent
    subprocess.run(
        [sys.executable, "-c", _BUILD_REFERENCE, str(path), str(SPANS)],
        env=env,
        cwd=root,
        check=True,
    )
    return path


def _details_figures(runs: list[tuple[list[float], list[float]]]) -> dict:
    def med(values: list[float]) -> float:
        return round(statistics.median(values), 1)

    return {
        "runs": len(runs),
        "first_handler_ms": med([first[0] for first, _ in runs]),
        "first_paint_ms": med([first[1] for first, _ in runs]),
        "first_paint_max_ms": round(max(first[1] for first, _ in runs), 1),
        "second_handler_ms": med([second[0] for _, second in runs]),
        "second_paint_ms": med([second[1] for _, second in runs]),
    }


def _details_open(browser, pages: dict[str, Path]) -> dict:
    """The details figures of each page in ``pages``, loads taken in turn so that both see
    the same machine load."""
    runs: dict[str, dict[str, list]] = {name: {"warm": [], "cold": []} for name in pages}
    for _ in range(LOADS):
        for mode in ("warm", "cold"):
            for name, path in pages.items():
                runs[name][mode].append(_open_details(browser, path, mode == "warm"))
    return {
        name: {mode: _details_figures(found) for mode, found in modes.items()}
        for name, modes in runs.items()
    }


def _frames(measured: list) -> dict:
    times, long_tasks = measured
    ordered = sorted(times)
    return {
        "long_tasks": len(long_tasks),
        "longest_task_ms": round(max(long_tasks, default=0.0), 1),
        "frames": len(times),
        "median_ms": round(statistics.median(times), 2),
        "p95_ms": round(ordered[int(len(ordered) * 0.95) - 1], 2),
        "max_ms": round(ordered[-1], 2),
        "over_50ms": sum(1 for t in times if t > 50),
    }


def main() -> None:
    from playwright.sync_api import sync_playwright

    from spanscope.viz.waterfall import render_waterfall

    trace = big_trace(SPANS)
    started = time.perf_counter()
    html = render_waterfall([trace])
    build_s = time.perf_counter() - started
    data_at = html.index('id="spanscope-data"')
    details_at = html.index('id="spanscope-details"')
    size = len(html.encode("utf-8"))
    results: dict = {
        "spans": len(trace.spans),
        "build_page_s": round(build_s, 2),
        "file_mib": round(size / 2**20, 2),
        "summary_block_mib": round(len(html[data_at:details_at].encode()) / 2**20, 2),
        "details_block_mib": round(len(html[details_at:].encode()) / 2**20, 2),
    }
    print(
        f"{results['spans']:,} spans: page built in {build_s:.2f} s, {results['file_mib']} MiB "
        f"(summary {results['summary_block_mib']} MiB, details {results['details_block_mib']} MiB)"
    )

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "waterfall.html"
        path.write_text(html, encoding="utf-8")
        with sync_playwright() as playwright:
            browser = launch(playwright)
            ready, painted = [], []
            for _ in range(LOADS):
                page = browser.new_page(viewport={"width": 1440, "height": 900})
                errors: list[str] = []
                page.on("pageerror", lambda e, errors=errors: errors.append(str(e)))
                page.goto(path.as_uri())
                page.wait_for_selector("body[data-ready='1']", state="attached", timeout=60_000)
                ready.append(page.evaluate("window.__spanscopeReady"))
                painted.append(page.evaluate(_FIRST_PAINT))
                if errors:
                    raise SystemExit(f"page errors: {errors}")
                rows = page.locator("#rows .row:visible").count()
                page.close()
            results["load"] = {
                "loads": LOADS,
                "ready_median_ms": round(statistics.median(ready), 1),
                "first_paint_median_ms": round(statistics.median(painted), 1),
                "first_paint_max_ms": round(max(painted), 1),
                "rows_in_dom": rows,
            }
            page = browser.new_page(viewport={"width": 1440, "height": 900})
            page.goto(path.as_uri())
            page.wait_for_selector("body[data-ready='1']", state="attached", timeout=60_000)
            results["scroll_smooth"] = _frames(page.evaluate(_SCROLL, [300, "smooth"]))
            results["scroll_jumps"] = _frames(page.evaluate(_SCROLL, [100, "jumps"]))
            for name, px in (("draw_cost_smooth", 72), ("draw_cost_jumps", -1)):
                costs = sorted(page.evaluate(_DRAW_COST, [300, px]))
                results[name] = {
                    "steps": len(costs),
                    "median_ms": round(statistics.median(costs), 2),
                    "p95_ms": round(costs[int(len(costs) * 0.95) - 1], 2),
                    "max_ms": round(costs[-1], 2),
                }
            search_ms, matches = page.evaluate(_SEARCH, "select shop.stock")
            results["search"] = {"ms_first": round(search_ms, 1), "matches": matches}
            search_ms, matches = page.evaluate(_SEARCH, "payment")
            results["search"]["ms_again"] = round(search_ms, 1)
            page.evaluate(_SEARCH, "")
            started_ms = page.evaluate(
                "() => { const t = performance.now();"
                " document.getElementById('collapse-all').click();"
                " document.getElementById('expand-all').click();"
                " return performance.now() - t; }"
            )
            results["collapse_expand_all_ms"] = round(started_ms, 1)
            page.close()
            pages = {"this": path}
            reference = os.environ.get("BENCH_WATERFALL_REF_SRC")
            if reference:
                pages["reference"] = _reference_page(Path(reference), Path(tmp))
            opened = _details_open(browser, pages)
            results["details_open"] = opened["this"]
            if reference:
                results["details_open_reference"] = opened["reference"]
            results["uptime_load"] = os.getloadavg()[0]
            browser.close()

    load = results["load"]
    print(
        f"open (median of {LOADS}): rows drawn at {load['ready_median_ms']:.0f} ms, "
        f"first paint {load['first_paint_median_ms']:.0f} ms "
        f"(worst {load['first_paint_max_ms']:.0f} ms; target < 2000 ms); "
        f"{load['rows_in_dom']} rows in the DOM"
    )
    for name in ("scroll_smooth", "scroll_jumps"):
        s = results[name]
        print(
            f"{name}: {s['frames']} frames, median {s['median_ms']} ms, p95 {s['p95_ms']} ms, "
            f"max {s['max_ms']} ms, {s['over_50ms']} over 50 ms; "
            f"{s['long_tasks']} long tasks (longest {s['longest_task_ms']} ms)"
        )
    for name in ("draw_cost_smooth", "draw_cost_jumps"):
        s = results[name]
        print(
            f"{name} (our JS + style + layout per scroll step): median {s['median_ms']} ms, "
            f"p95 {s['p95_ms']} ms, max {s['max_ms']} ms over {s['steps']} steps"
        )
    print(
        f"search over all spans: {results['search']['ms_first']} ms the first time (builds the"
        f" index), {results['search']['ms_again']} ms after; collapse+expand all "
        f"{results['collapse_expand_all_ms']} ms"
    )
    for name in ("details_open", "details_open_reference"):
        if name not in results:
            continue
        for mode in ("warm", "cold"):
            d = results[name][mode]
            print(
                f"{name} ({mode}, median of {d['runs']} fresh pages): first open "
                f"{d['first_handler_ms']} ms in the handler, painted after "
                f"{d['first_paint_ms']} ms (worst {d['first_paint_max_ms']} ms); second open "
                f"{d['second_handler_ms']} / {d['second_paint_ms']} ms"
            )
    print(f"load average when measured: {results['uptime_load']:.2f}")
    save("waterfall", results)


if __name__ == "__main__":
    main()
