"""The waterfall page in real headless Chromium, built from third-party trace files."""

from __future__ import annotations

import json
import re

import pytest

from spanscope.analysis.critical_path import critical_path
from spanscope.analysis.errors import error_detail, is_error_span, originating_error
from spanscope.assembly import assemble
from spanscope.model import ProblemKind, Span
from spanscope.synthetic import generate_spans
from spanscope.viz.waterfall import render_waterfall
from tests.cli.run import spanscope
from tests.viz.conftest import fixture_traces

pytestmark = pytest.mark.browser

MS = 10**6
T0 = 1_700_000_000_000_000_000
SMARTTHINGS = "zipkin/zipkin-lens__testdata__smartthings-oauth-authorization.json"
MESSAGING = "zipkin/zipkin-lens__testdata__messaging2.json"
SKEW = "zipkin/zipkin-lens__testdata__skew.json"
TWO_TRACES = "jaeger/internal__storage__v2__memory__fixtures__otel_traces_01.json"


def _write(tmp_path, traces, name="page.html"):
    path = tmp_path / name
    path.write_text(render_waterfall(traces), encoding="utf-8")
    return path


def _state(page):
    return page.page.evaluate("window.spanscope.state()")


def _collect_rows(page, selector_js):
    """Scroll the virtualised list from top to bottom and collect, per rendered row,
    ``selector_js(rowElement)``; returns {row index: value}."""
    found = {}
    total = page.page.evaluate("document.getElementById('rows-inner').offsetHeight")
    step = page.page.evaluate("document.getElementById('rows').clientHeight")
    top = 0
    while True:
        page.page.evaluate(f"document.getElementById('rows').scrollTop = {top}")
        # The page draws rows on the frame after a scroll event: wait for two frames (a fixed
        # wait missed rows on a loaded machine).
        page.page.evaluate(
            "new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))"
        )
        items = page.page.evaluate(
            "Array.from(document.querySelectorAll('#rows .row'))"
            ".filter(r => r.style.display !== 'none')"
            f".map(r => [+r.dataset.row, ({selector_js})(r)])"
        )
        found.update({index: value for index, value in items})
        if top >= total:
            break
        top += step
    page.page.evaluate("document.getElementById('rows').scrollTop = 0")
    return found


def test_single_trace_loads_with_every_row_and_is_virtualised(page, tmp_path):
    (trace,) = fixture_traces(SMARTTHINGS)
    page.open(_write(tmp_path, [trace]))
    state = _state(page)
    assert state["trace"] == trace.trace_id
    assert state["n"] == state["visible"] == len(trace.spans) == 175
    # only the rows on screen (plus a small overscan) are in the DOM
    in_dom = page.page.locator("#rows .row:visible").count()
    assert 20 < in_dom < 80
    rows = _collect_rows(page, "r => r.dataset.spanId")
    assert sorted(rows) == list(range(len(trace.spans)))
    assert [rows[i] for i in range(len(rows))] == [span.span_id for span, _ in trace.walk()]
    page.shot("waterfall-smartthings")
    assert page.errors == []


def test_critical_path_segments_match_the_analysis(page, tmp_path):
    (trace,) = fixture_traces(SMARTTHINGS)
    page.open(_write(tmp_path, [trace]))
    drawn = _collect_rows(
        page,
        "r => Array.from(r.querySelectorAll('.cp'))"
        ".map(c => [r.dataset.spanId, +c.dataset.s, +c.dataset.e, c.offsetLeft, c.offsetWidth])",
    )
    segments = sorted((s[0], s[1], s[2]) for items in drawn.values() for s in items)
    origin = trace.start_ns
    expected = sorted(
        (section.span_id, section.start_ns - origin, section.end_ns - origin)
        for section in critical_path(trace)
    )
    assert expected and segments == expected
    # and they are drawn where the time axis says
    width = _state(page)["width"]
    span = trace.duration_ns
    for items in drawn.values():
        for _sid, start, end, left, pixels in items:
            assert abs(left - start / span * width) <= 1.5
            assert abs(pixels - max(1, (end - start) / span * width)) <= 2.5
    # the toggle hides them
    page.page.click("#cp-toggle")
    assert page.page.locator("#rows .cp:visible").count() == 0
    page.page.click("#cp-toggle")
    assert page.page.locator("#rows .cp:visible").count() > 0
    assert page.errors == []


def test_data_problems_and_errors_are_marked(page, tmp_path):
    (trace,) = fixture_traces(SMARTTHINGS)
    page.open(_write(tmp_path, [trace]))
    badges = _collect_rows(
        page, "r => Array.from(r.querySelectorAll('.badge')).map(b => b.textContent)"
    )
    by_kind = {kind: {p.span_id for p in trace.problems if p.kind == kind} for kind in ProblemKind}
    row_of = {span.span_id: i for i, (span, _) in enumerate(trace.walk())}
    unclosed = {row_of[s] for s in by_kind[ProblemKind.UNCLOSED]}
    errors = {row_of[s.span_id] for s in trace.spans if is_error_span(s)}
    assert unclosed and errors
    assert {i for i, b in badges.items() if "unclosed" in b} == unclosed
    assert {i for i, b in badges.items() if "!" in b} == errors
    # the details of an unclosed span say so
    first = min(unclosed)
    page.page.evaluate(f"window.spanscope.select({first})")
    page.page.locator(f"#rows .row[data-row='{first}'] .op").click()
    body = page.page.locator("#details-body").inner_text()
    assert "never ended" in body and "unclosed" in body
    page.shot("waterfall-details-unclosed")

    # clock skew (the Zipkin UI's own skew fixture): adjusted spans are the ones a skew
    # problem names and the ones shifted along with them
    (skewed_trace,) = fixture_traces(SKEW)
    page.open(_write(tmp_path, [skewed_trace], "skew.html"))
    expected = {p.span_id for p in skewed_trace.problems if p.kind == ProblemKind.CLOCK_SKEW}
    expected |= {s.span_id for s in skewed_trace.spans if any("skew" in w for w in s.warnings)}
    marked = page.page.evaluate(
        "Array.from(document.querySelectorAll('#rows .row'))"
        ".filter(r => [...r.querySelectorAll('.badge')].some(b => b.textContent === 'skew'))"
        ".map(r => r.dataset.spanId)"
    )
    assert expected and set(marked) == expected

    (orphaned,) = fixture_traces(MESSAGING)
    page.open(_write(tmp_path, [orphaned], "orphans.html"))
    orphans = {p.span_id for p in orphaned.problems if p.kind == ProblemKind.ORPHAN}
    marked = page.page.evaluate(
        "Array.from(document.querySelectorAll('#rows .row'))"
        ".filter(r => r.querySelector('.badge')?.textContent === 'orphan')"
        ".map(r => r.dataset.spanId)"
    )
    assert set(marked) == orphans and len(orphans) == 6
    assert page.errors == []


def test_tooltip_collapse_search_and_keyboard(page, tmp_path):
    (trace,) = fixture_traces(SMARTTHINGS)
    page.open(_write(tmp_path, [trace]))
    n = len(trace.spans)

    # hover: a tooltip names the span
    page.page.locator("#rows .row[data-row='2'] .track").hover()
    tooltip = page.page.locator("#tooltip")
    assert tooltip.is_visible()
    spans = [span for span, _ in trace.walk()]
    assert spans[2].name in tooltip.inner_text()

    # collapse the root: only the root row stays
    page.page.locator("#rows .row[data-row='0'] .toggle").click()
    assert _state(page)["visible"] == len(trace.roots)
    page.page.locator("#rows .row[data-row='0'] .toggle").click()
    assert _state(page)["visible"] == n

    # search: the same spans as the page's haystack (name, service, id, attributes, ...)
    query = "oauth"
    page.page.fill("#search", query)
    page.page.press("#search", "Enter")

    def haystack(span):
        extra = "".join(
            f" {key}="
            + (value if isinstance(value, str) else json.dumps(value, separators=(",", ":")))
            for key, value in span.attributes.items()
        )
        if span.status_message:
            extra += " " + span.status_message
        extra += "".join(" " + event.name for event in span.events)
        service = span.service_name or "(unknown service)"
        return "\x01".join([span.name, service, span.span_id, extra]).lower()

    expected = sum(query in haystack(span) for span in spans)
    state = _state(page)
    assert 0 < state["matches"] == expected < n
    assert f"{expected} of {n} spans match" in page.page.locator("#match-count").inner_text()
    assert page.page.locator("#rows mark").count() > 0
    page.shot("waterfall-search")
    page.page.fill("#search", "")
    page.page.press("#search", "Escape")
    assert _state(page)["visible"] == n

    # a legend chip filters by service; a second click clears it
    busiest = max(
        {s.service_name for s in trace.spans},
        key=lambda name: sum(s.service_name == name for s in trace.spans),
    )
    page.page.locator(".chip").first.click()
    assert _state(page)["matches"] == sum(s.service_name == busiest for s in trace.spans)
    assert page.page.locator("#service-filter option:checked").inner_text() == busiest
    page.page.locator(".chip").first.click()
    assert _state(page)["visible"] == n

    # errors only
    page.page.check("#errors-only")
    assert _state(page)["matches"] == sum(is_error_span(s) for s in trace.spans)
    page.page.uncheck("#errors-only")

    # on the critical path only: the spans critical_path() names
    page.page.check("#cp-only")
    assert _state(page)["matches"] == len({s.span_id for s in critical_path(trace)})
    page.page.uncheck("#cp-only")
    assert _state(page)["visible"] == n

    # keyboard: home, down, enter opens details of that span; left collapses, right expands
    page.page.focus("#rows")
    page.page.keyboard.press("Home")
    assert _state(page)["selected"] == 0
    page.page.keyboard.press("ArrowDown")
    assert _state(page)["selected"] == 1
    page.page.keyboard.press("Enter")
    assert page.page.locator("#details").is_visible()
    shown = page.page.locator("#details-body").inner_text()
    assert spans[1].span_id in shown
    for key, value in spans[1].attributes.items():
        assert key in shown and str(value) in shown
    page.page.click("#details-body .parent-go")
    assert _state(page)["selected"] == 0
    assert spans[0].span_id in page.page.locator("#details-body").inner_text()
    page.page.focus("#rows")
    page.page.keyboard.press("ArrowDown")
    assert _state(page)["selected"] == 1
    page.page.keyboard.press("Escape")
    assert not page.page.locator("#details").is_visible()
    page.page.keyboard.press("ArrowLeft")  # row 1 has children: collapse it
    assert _state(page)["visible"] < n
    page.page.keyboard.press("ArrowRight")
    assert _state(page)["visible"] == n
    assert page.errors == []


def test_zoom_pan_and_minimap(page, tmp_path):
    (trace,) = fixture_traces(SMARTTHINGS)
    page.open(_write(tmp_path, [trace]))
    full = trace.duration_ns
    spans = [span for span, _ in trace.walk()]

    def expected_width(row, v0, v1, width):
        span = spans[row]
        end = span.end_ns or trace.end_ns

        def x(t):
            return min(max((t - trace.start_ns - v0) / (v1 - v0) * width, -4), width + 4)

        return max(2, x(end) - x(span.start_ns))

    page.page.click("#zoom-in")
    state = _state(page)
    assert state["v1"] - state["v0"] == pytest.approx(full / 2, rel=1e-6)
    for row in (0, 5, 12, 20):
        bar = page.page.locator(f"#rows .row[data-row='{row}'] .bar").bounding_box()["width"]
        assert bar == pytest.approx(
            expected_width(row, state["v0"], state["v1"], state["width"]), abs=1.0
        )
    assert page.page.locator("#minimap-window").is_visible()

    # ctrl + wheel over the bars zooms around the cursor
    box = page.page.locator("#rows").bounding_box()
    page.page.mouse.move(box["x"] + box["width"] * 0.8, box["y"] + 40)
    page.page.keyboard.down("Control")
    page.page.mouse.wheel(0, -300)
    page.page.keyboard.up("Control")
    zoomed = _state(page)
    assert zoomed["v1"] - zoomed["v0"] < full / 2

    # drag on the bars pans
    page.page.mouse.down()
    page.page.mouse.move(box["x"] + box["width"] * 0.5, box["y"] + 40, steps=5)
    page.page.mouse.up()
    panned = _state(page)
    assert panned["v0"] > zoomed["v0"]
    assert panned["v1"] - panned["v0"] == pytest.approx(zoomed["v1"] - zoomed["v0"], rel=1e-6)

    # reset, then brush a range on the ruler: the view becomes that range
    page.page.click("#zoom-reset")
    assert _state(page)["v0"] == 0 and _state(page)["v1"] == full
    ruler = page.page.locator("#ruler").bounding_box()
    page.page.mouse.move(ruler["x"] + ruler["width"] * 0.25, ruler["y"] + 10)
    page.page.mouse.down()
    page.page.mouse.move(ruler["x"] + ruler["width"] * 0.5, ruler["y"] + 10, steps=5)
    page.page.mouse.up()
    state = _state(page)
    assert state["v0"] == pytest.approx(full * 0.25, rel=0.02)
    assert state["v1"] == pytest.approx(full * 0.5, rel=0.02)
    page.shot("waterfall-zoomed")

    # a brush on the minimap works the same, double-click resets
    mini = page.page.locator("#minimap").bounding_box()
    page.page.mouse.move(mini["x"] + 2, mini["y"] + 20)
    page.page.mouse.down()
    page.page.mouse.move(mini["x"] + mini["width"] * 0.1, mini["y"] + 20, steps=4)
    page.page.mouse.up()
    assert _state(page)["v1"] == pytest.approx(full * 0.1, rel=0.05)
    page.page.dblclick("#ruler")
    assert _state(page)["v1"] == full
    assert page.errors == []


def test_trace_list_sorts_and_opens_each_trace(page, tmp_path):
    traces = assemble(generate_spans(40, seed=11))
    page.open(_write(tmp_path, traces, "list.html"))
    rows = page.page.locator("#trace-table tbody tr")
    assert rows.count() == len(traces)
    page.shot("trace-list")

    def column(index):
        texts = page.page.locator(f"#trace-table tbody td:nth-child({index})").all_inner_texts()
        return [int(re.sub(r"\D", "", text.split()[0])) for text in texts]

    page.page.click("#trace-table th[data-key='n']")
    spans = column(4)
    assert spans == sorted((len(t.spans) for t in traces), reverse=True)
    page.page.click("#trace-table th[data-key='n']")
    assert column(4) == sorted(len(t.spans) for t in traces)

    # open one: its waterfall, then back to the list
    first = rows.first.get_attribute("data-trace")
    rows.first.click()
    page.page.wait_for_selector("#trace-view:not([hidden])")
    assert _state(page)["trace"] == first
    chosen = next(t for t in traces if t.trace_id == first)
    assert _state(page)["n"] == len(chosen.spans)
    page.page.click("#back")
    page.page.wait_for_selector("#list-view:not([hidden])")

    page.page.fill("#list-search", "cart")
    assert 0 < rows.count() < len(traces)
    assert page.errors == []


def test_two_trace_fixture_and_dark_theme(page, tmp_path):
    traces = fixture_traces(TWO_TRACES)
    page.page.emulate_media(color_scheme="dark")
    page.open(_write(tmp_path, traces, "two.html"))
    assert page.page.locator("#trace-table tbody tr").count() == 2
    page.page.locator("#trace-table tbody tr").nth(1).click()
    page.page.wait_for_selector("#trace-view:not([hidden])")
    assert _state(page)["n"] == 2
    background = page.page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert background == "rgb(18, 21, 27)"
    page.shot("waterfall-dark")

    # links to spans in this file can be followed, across traces too
    where = {
        (t.trace_id, span.span_id): (t.trace_id, row)
        for t in traces
        for row, (span, _) in enumerate(t.walk())
    }
    source, link = next(
        ((t, span, row), link)
        for t in traces
        for row, (span, _) in enumerate(t.walk())
        for link in span.links
        if (link.trace_id, link.span_id) in where
    )
    trace, _span, row = source
    page.page.evaluate(f"window.spanscope.openTrace('{trace.trace_id}')")
    page.page.locator(f"#rows .row[data-row='{row}'] .op").click()
    page.page.locator("#details-body .event .link-go").first.click()
    target_trace, target_row = where[(link.trace_id, link.span_id)]
    state = _state(page)
    assert (state["trace"], state["selected"]) == (target_trace, target_row)
    assert link.span_id in page.page.locator("#details-body").inner_text()
    assert page.errors == []


def _luminance(rgb):
    def channel(v):
        v /= 255
        return v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(v) for v in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def _contrast(a, b):
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_critical_path_line_stands_out_on_every_bar_colour(page, tmp_path, scheme):
    from spanscope.viz.palette import PALETTE

    page.page.emulate_media(color_scheme=scheme)
    page.open(_write(tmp_path, fixture_traces(SMARTTHINGS), f"cp-{scheme}.html"))
    line = page.page.locator("#rows .cp").first
    core, edge = line.evaluate(
        "el => [getComputedStyle(el).backgroundColor, getComputedStyle(el).boxShadow]"
    )
    parts = [tuple(int(v) for v in m) for m in re.findall(r"rgba?\((\d+), (\d+), (\d+)", core)]
    parts += [tuple(int(v) for v in m) for m in re.findall(r"rgba?\((\d+), (\d+), (\d+)", edge)]
    assert len(parts) == 2, (core, edge)
    for colour in PALETTE:
        bar = tuple(int(colour[i : i + 2], 16) for i in (1, 3, 5))
        # the line is seen where either its core or its edge differs enough from the bar
        assert max(_contrast(part, bar) for part in parts) >= 3, (scheme, colour, core, edge)
    page.shot(f"critical-path-{scheme}")
    assert page.errors == []


def test_trace_list_shows_a_zero_error_count_as_the_search_page_does(page, tmp_path):
    traces = fixture_traces(TWO_TRACES) + fixture_traces(MESSAGING)
    page.open(_write(tmp_path, traces, "zero.html"))
    cells = page.page.locator("#trace-table tbody td:nth-child(6)")
    found = {
        row.get_attribute("data-trace"): cell
        for row, cell in zip(
            page.page.locator("#trace-table tbody tr").all(), cells.all(), strict=True
        )
    }
    counts = {t.trace_id: sum(is_error_span(s) for s in t.spans) for t in traces}
    assert 0 in counts.values() and any(counts.values()), counts
    for trace_id, count in counts.items():
        cell = found[trace_id]
        assert cell.inner_text().strip() == f"{count:,}"
        # zero is faint, a count is in the error colour (the served Search page's classes)
        assert cell.get_attribute("class") == ("num err-cell" if count else "num zero")
    assert page.errors == []


def _waited_on(trace) -> list[tuple[str, str, int, int]]:
    """The critical path summed by service and operation, most first: (service, operation,
    ns, spans) as the page's 'waited on' line should give them."""
    by_span: dict[str, int] = {}
    for section in critical_path(trace):
        by_span[section.span_id] = (
            by_span.get(section.span_id, 0) + section.end_ns - section.start_ns
        )
    groups: dict[tuple[str, str], list[int]] = {}
    for span in trace.spans:
        if by_span.get(span.span_id):
            group = groups.setdefault((span.service_name, span.name), [0, 0])
            group[0] += by_span[span.span_id]
            group[1] += 1
    ranked = sorted(groups.items(), key=lambda item: -item[1][0])
    return [(service, name, ns, spans) for (service, name), (ns, spans) in ranked]


def test_in_short_says_where_the_request_waited_and_where_it_failed(page, tmp_path):
    traces = assemble(generate_spans(300, seed=1))
    failed = next(t for t in traces if is_error_span(t.root) and len(t.spans) > 10)
    page.open(_write(tmp_path, [failed]))
    groups = _waited_on(failed)
    total = sum(ns for _, _, ns, _ in groups)
    assert total == failed.root.duration_ns
    shown = page.page.eval_on_selector_all(
        "#why .go", "bs => bs.map(b => [b.textContent, +b.dataset.gotoRow])"
    )
    expected = [
        f"{service} {name}" + (f" ×{spans}" if spans > 1 else "")
        for service, name, _ns, spans in groups[:3]
    ]
    assert [text for text, _ in shown[:-1]] == expected
    text = page.page.inner_text("#why")
    top_share = groups[0][2] / total * 100
    assert f"{top_share:.1f}%" in text
    # The failure started at the span the analysis names, and the line says what it said.
    origin = originating_error(failed)
    detail = error_detail(origin)
    assert shown[-1][0] == f"{origin.service_name} {origin.name}"
    assert "failed at" in text and detail.exception_type in text
    # Each name shows its span: the origin is selected with its details open.
    page.page.locator("#why .go").last.click()
    state = _state(page)
    rows = [span for span, _ in failed.walk()]
    assert rows[state["selected"]].span_id == origin.span_id
    assert page.page.locator("#details").is_visible()
    # The top operation's button selects its longest span on the path.
    page.page.locator("#why .go").first.click()
    chosen = rows[_state(page)["selected"]]
    assert (chosen.service_name, chosen.name) == groups[0][:2]
    page.shot("waterfall-in-short")
    assert page.errors == []


def test_in_short_of_a_trace_without_errors_has_no_failure_part(page, tmp_path):
    healthy = next(
        t
        for t in assemble(generate_spans(50, seed=2))
        if not any(is_error_span(s) for s in t.spans)
    )
    page.open(_write(tmp_path, [healthy]))
    text = page.page.inner_text("#why")
    assert text.startswith("waited on") and "failed at" not in text and "error at" not in text
    assert page.errors == []


def test_in_short_compares_a_request_with_the_typical_one_of_its_endpoint(page, tmp_path):
    from spanscope.analysis.typical import (
        TypicalRequests,
        compare_operations,
        critical_by_operation,
    )

    traces = assemble(generate_spans(200, seed=1))
    slowest = max(traces, key=lambda t: t.root.duration_ns)
    typical = TypicalRequests(traces).of(slowest)
    page.open(_write(tmp_path, traces))
    page.page.evaluate(f"location.hash = '#trace={slowest.trace_id}'")
    page.page.wait_for_function(f"window.spanscope.state()?.trace === '{slowest.trace_id}'")
    row = page.page.locator("#why .why-row", has_text="typical request")
    text = " ".join(row.inner_text().split())
    assert f"median of {typical.requests}," in text
    biggest = compare_operations(
        critical_by_operation(slowest), critical_by_operation(typical.trace)
    )[0]
    assert biggest.ns > biggest.typical_ns
    changes = row.locator(".more, .less").all_inner_texts()
    assert 1 <= len(changes) <= 3
    assert changes[0].endswith(f"{biggest.service} {biggest.operation}")
    assert changes[0].startswith("+")  # this request spent more there
    # The button opens the typical request, whose own line has no comparison.
    row.locator("[data-open-trace]").click()
    page.page.wait_for_function(f"window.spanscope.state()?.trace === '{typical.trace.trace_id}'")
    assert page.page.locator("#why .why-row", has_text="typical request").count() == 0
    assert page.page.inner_text("#why").startswith("waited on")
    assert page.errors == []


def test_the_typical_request_counts_the_traces_view_leaves_out(tmp_path):
    """``view --max-traces`` draws the slowest traces; the typical request is still the median
    of every request read. ``--trace-id`` draws one trace alone, the same page from a file or a
    store, so it has no comparison."""
    import json as json_module

    from spanscope.analysis.typical import TypicalRequests
    from spanscope.formats import encode_spans

    spans = list(generate_spans(400, seed=4))
    source = tmp_path / "shop.jsonl"
    source.write_bytes(encode_spans(spans, "otlp-jsonl"))
    traces = assemble(spans)

    def page_data(*args: str) -> dict:
        out = tmp_path / "page.html"
        drawn = spanscope("view", str(source), "-o", str(out), *args)
        assert drawn.returncode == 0, drawn.stderr
        marker = '<script type="application/json" id="spanscope-data">'
        return json_module.loads(out.read_text().split(marker)[1].split("</script>")[0])

    data = page_data("--max-traces", "50")
    compared = [t for t in data["traces"] if "typ" in t]
    assert compared
    by_id = {t.trace_id: t for t in traces}
    typical = TypicalRequests(traces)
    for drawn in compared:
        usual = typical.of(by_id[drawn["id"]])
        assert drawn["typ"][:2] == [usual.trace.trace_id, usual.requests]
        assert usual.requests > 50  # over the whole file, not the 50 drawn
    (alone,) = page_data("--trace-id", compared[0]["id"])["traces"]
    assert "typ" not in alone


def test_in_short_keeps_a_huge_name_to_the_page_s_width(page, tmp_path):
    huge = "GET /" + "x" * 10_000
    traces = [
        build_one
        for n in range(6)
        for build_one in assemble(
            [
                Span(f"{n + 1:032x}", f"{n + 1:016x}", huge, T0, T0 + (10 + n) * MS,
                     service_name="web"),
                Span(f"{n + 1:032x}", f"{n + 101:016x}", huge, T0 + MS, T0 + (9 + n) * MS,
                     f"{n + 1:016x}", service_name="db"),
            ],
            adjust_skew=False,
        )
    ]  # fmt: skip
    page.page.set_viewport_size({"width": 800, "height": 700})
    page.open(_write(tmp_path, traces))
    page.page.evaluate(f"location.hash = '#trace={traces[-1].trace_id}'")
    page.page.wait_for_function(f"window.spanscope.state()?.trace === '{traces[-1].trace_id}'")
    text = page.page.inner_text("#why")
    assert "typical request" in text and "x…" in text and len(text) < 2_000
    assert page.page.evaluate("document.documentElement.scrollWidth") <= 800
    assert page.errors == []
