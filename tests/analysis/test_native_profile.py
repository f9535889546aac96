"""The C engine of the critical-path profile (``spanscope.analysis.native_profile``) charges a
Jaeger JSON document exactly as the Python path does, or declines it and changes nothing.

The Python path is the projection (``jaeger_lean.read_projected``), ``assemble`` and
``ProfileAnalyzer.add`` trace by trace. Every test compares what both leave in a
``ProfileAnalyzer``: its trace count, its ``Profile`` (every field), the folded stacks of all
traces and of the slowest, and what ``charge_document`` returns (spans, trace ids in order).

The documents: the writer's output for generated traces and real Jaeger UI traces as the query
API answers them (which must take the C engine: equality proves nothing on documents it
declines), every fixture the projection reads, hypothesis trees built to hit what the walk
depends on (depth, back-to-back and zero-length children, children partly or wholly outside
their parent, FOLLOWS_FROM, messaging kinds, equal starts, several traces and services, names
with ids, hosts for clock-skew adjustment), each perhaps changed in one of the ways the C
engine must decline or leave a trace to the Python path, the projection's own strategies,
several documents into one analyzer, merged analyzers, and hostile bytes.
"""

from __future__ import annotations

import io
import json
import pickle
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgspec
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from spanscope.analysis import native_profile
from spanscope.analysis.profile import ProfileAnalyzer, folded_stacks
from spanscope.assembly import assemble
from spanscope.formats import write_spans
from spanscope.formats.jaeger_lean import read_projected
from spanscope.model import Span, SpanKind
from spanscope.synthetic import generate_spans

from ..conftest import FIXTURES
from ..formats.strategies import corrupt
from ..formats.test_jaeger_lean import reference_documents, tag_documents

needs_native = pytest.mark.skipif(
    not native_profile.available(),
    reason="the C profile engine is not built here (no C compiler) or SPANSCOPE_NO_NATIVE=1",
)
pytestmark = needs_native

Charged = tuple[int, list[str]]


# --- the two engines --------------------------------------------------------------------------


def python_path(data: bytes, analyzer: ProfileAnalyzer, adjust_skew: bool) -> Charged | None:
    """What ``analyze --folded -`` does with a document without the C engine."""
    spans = read_projected(data, "x")
    if spans is None:
        return None  # the full reader's business
    traces = assemble(spans, adjust_skew=adjust_skew)
    for trace in traces:
        analyzer.add(trace)
    return len(spans), [trace.trace_id for trace in traces]


def observed(analyzer: ProfileAnalyzer) -> tuple:
    """Everything the profile shows of an analyzer, comparable with ``==``."""
    profile = analyzer.profile()
    return (
        analyzer.traces,
        msgspec.to_builtins(profile),
        folded_stacks(profile),
        folded_stacks(profile, slow=True),
    )


def analyzer_pair(strict: bool, min_names: int = 20) -> tuple[ProfileAnalyzer, ProfileAnalyzer]:
    """Two analyzers alike: one for each engine."""
    first = ProfileAnalyzer(strict=strict, min_names=min_names)
    return first, ProfileAnalyzer(strict=strict, min_names=min_names)


def charge_both(
    data: bytes, native: ProfileAnalyzer, reference: ProfileAnalyzer, adjust_skew: bool
) -> bool:
    """Charge ``data`` natively to ``native`` (by the Python path where the C engine declines,
    as the command does) and by the Python path to ``reference``; assert the contract on the
    way. Returns whether the C engine took it."""
    before = pickle.dumps(native)
    charged = native_profile.charge_document(data, native, adjust_skew)
    expected = python_path(data, reference, adjust_skew)
    if charged is None:
        assert pickle.dumps(native) == before, "declined, but the analyzer was changed"
        python_path(data, native, adjust_skew)
        return False
    assert expected is not None, "took a document the projection gives back"
    assert charged == expected
    return True


def same_as_python(
    data: bytes, adjust_skew: bool, strict: bool = False, min_names: int = 20
) -> bool:
    """Assert the contract on one document into fresh analyzers; return whether C took it."""
    native, reference = analyzer_pair(strict, min_names)
    taken = charge_both(data, native, reference, adjust_skew)
    assert observed(native) == observed(reference)
    return taken


# --- ordinary data takes the C engine ---------------------------------------------------------


def written(spans: list[Span]) -> bytes:
    out = io.BytesIO()
    write_spans(spans, out, "jaeger-json")
    return out.getvalue()


def one_document_per_trace(count: int, seed: int) -> list[bytes]:
    """The generated shop's requests, one Jaeger document each, as CRISP's layout has them."""
    documents: list[bytes] = []
    current: list[Span] = []
    for span in generate_spans(count, seed=seed):
        if current and span.trace_id != current[0].trace_id:
            documents.append(written(current))
            current = []
        current.append(span)
    documents.append(written(current))
    return documents


def handed_to_the_skew_adjuster(data: bytes) -> bool:
    """Whether a span of the document starts before its parent or ends after a parent that
    waits for it: ``build_trace`` then runs the clock-skew adjuster, which the C engine leaves
    to the Python path (even where the adjuster moves nothing: a child on its parent's host)."""
    for trace in assemble(read_projected(data, "x") or [], adjust_skew=False):
        for span in trace.spans:
            parent = trace.by_id.get(span.parent_span_id)
            if parent is None:
                continue
            waited_for = not (
                span.follows_from
                or span.kind == SpanKind.CONSUMER
                or parent.kind == SpanKind.PRODUCER
            )
            if span.start_ns < parent.start_ns or (span.end_ns > parent.end_ns and waited_for):
                return True
    return False


@pytest.mark.parametrize("adjust_skew", [True, False])
@pytest.mark.parametrize("strict", [False, True])
def test_the_writers_documents_take_the_c_engine(adjust_skew: bool, strict: bool) -> None:
    """All of them, but for those whose traces the skew adjuster would look at."""
    documents = one_document_per_trace(600, seed=11)
    native, reference = analyzer_pair(strict)
    taken = [charge_both(data, native, reference, adjust_skew) for data in documents]
    assert observed(native) == observed(reference)
    assert native.traces == len(documents) > 500
    for data, took in zip(documents, taken, strict=True):
        assert took or (adjust_skew and handed_to_the_skew_adjuster(data))
    assert taken.count(True) > 0.95 * len(taken)


def test_a_document_of_many_traces_takes_the_c_engine() -> None:
    """Also where a few of its traces are left to the Python path (the skew adjuster would
    look at them): they are added in their place among the others."""
    data = written(list(generate_spans(300, seed=3)))
    assert handed_to_the_skew_adjuster(data)
    for adjust_skew in (True, False):
        for strict in (False, True):
            assert same_as_python(data, adjust_skew, strict, min_names=2)


def jaeger_fixtures() -> list[Path]:
    """The fixture files the projection reads."""
    return sorted(
        path
        for path in FIXTURES.rglob("*")
        if path.is_file()
        and path.suffix in (".json", ".txt")
        and read_projected(path.read_bytes(), "x") is not None
    )


@pytest.mark.parametrize("path", jaeger_fixtures(), ids=lambda path: path.name[-60:])
def test_every_projected_fixture(path: Path) -> None:
    data = path.read_bytes()
    for adjust_skew in (True, False):
        for strict in (False, True):
            same_as_python(data, adjust_skew, strict)


def test_real_traces_as_the_query_api_answers_them() -> None:
    """Jaeger UI's fixtures are bare traces; as ``{"data": [trace]}`` (what Jaeger's API and
    the writer give) ten and more must take the C engine."""
    taken = []
    for path in jaeger_fixtures():
        data = path.read_bytes()
        if "spans" not in json.loads(data):
            continue  # not a bare trace
        wrapped = b'{"data": [' + data + b"]}"
        for adjust_skew in (True, False):
            for strict in (False, True):
                if same_as_python(wrapped, adjust_skew, strict):
                    taken.append(path.name)
    assert len(set(taken)) >= 10, sorted(set(taken))


# --- hypothesis documents ---------------------------------------------------------------------

US0 = 1_764_150_000_000_000  # µs: the writer's generated traces start about here
MAX_SPANS = 24
# Where a child is put relative to its parent and its previous sibling.
INSIDE = (
    *("inside",) * 4,
    "after_previous",  # back to back: starts the µs the previous sibling ended
    "same_start",
    "zero",
)
# Partly or wholly outside the parent: clock-skew adjustment may move these (some documents).
OUTSIDE = ("overhang_end", "before_start", "outside", "covering")
KINDS = (None, None, "server", "client", "client", "producer", "consumer", "internal")
NAMES = (
    "GET /api/cart",
    "SELECT shop.cart_items",
    "GET /users/{n}",  # ids in names: folded under GET /users/<num>
    "charge order {n}",
    "a;b",  # ';' cannot be in a folded frame
    "",
)
# Names with characters JSON may escape: in some documents only (the C engine may decline them).
ODD_NAMES = ('say "hi"\\now', "line\nbreak", "tab\there", "naïve ✓ 名前", "\x7f\u2028")
EXTRA_TAGS = (
    {"key": "http.response.status_code", "type": "int64", "value": 200},
    {"key": "error", "type": "bool", "value": True},
    {"key": "db.query.text", "type": "string", "value": "SELECT \"a\" FROM t WHERE x = '\\'"},
    {"key": "ratio", "type": "float64", "value": 0.25},
    {"key": "net.host.ip", "type": "string", "value": "10.0.0.7"},  # the span's own address
    {"key": "otel.status_code", "type": "string", "value": "ERROR"},
    {"key": "bytes", "type": "binary", "value": "AAEC"},
)
# Process tags that name a host, or not: how clock-skew adjustment tells clocks apart.
HOST_TAGS = st.sampled_from(
    [
        [],
        [{"key": "hostname", "type": "string", "value": "h1"}],
        [{"key": "hostname", "type": "string", "value": " h1 "}],
        [{"key": "hostname", "type": "string", "value": "h2"}],
        [{"key": "ip", "type": "int64", "value": 167772161}],
        [{"key": "ip", "type": "string", "value": "10.0.0.1"}],
        [{"key": "hostname", "type": "string", "value": ""}],
        [{"key": "host.name", "type": "string", "value": "h1"}, {"key": "k", "type": "bool",
                                                                   "value": False}],
    ]
)  # fmt: skip
SERVICES = ("frontend", "cart", "payment", "db", "")
# Ways a document can depart from the writer's: some the C engine must decline, some it may
# read (and then must read exactly).
MUTATIONS = (
    "duplicate_id",
    "orphan",
    "two_roots",
    "loop",
    "never_ended",
    "ends_before_start",
    "split_trace",
    "same_trace_spelt_twice",
    "upper_case_id",
    "short_id",
    "short_trace_id",
    "upper_case_trace_id",
    "trace_id_only_on_the_entry",
    "entry_trace_id_differs",
    "unknown_key",
    "span_warning",
    "logs",
    "extreme_times",
    "parent_field",
    "zero_parent_field",
    "null_references",
    "inline_process",
    "duplicate_key",
    "empty_entry",
    "processes_beside_data",
)


def _span_ids(draw: st.DrawFn, count: int) -> list[str]:
    """``count`` distinct ids, in no relation to the tree's order (spans that start together
    are sorted by id)."""
    base = draw(st.integers(0, 2**56 - 1))
    return [f"{base:014x}{low:02x}" for low in draw(st.permutations(range(1, count + 1)))]


def _child_window(draw: st.DrawFn, place: str, parent: dict, previous: dict | None) -> tuple:
    p_start, p_end = parent["start"], parent["start"] + parent["duration"]
    small = st.integers(1, 8)
    if place == "after_previous" and previous is not None:
        start = previous["start"] + previous["duration"]
    elif place == "same_start" and previous is not None:
        start = previous["start"]
    elif place in ("before_start", "covering"):
        start = p_start - draw(small)
    elif place == "outside":
        start = p_end + draw(st.integers(0, 4))  # 0: starts the µs its parent ends
    else:
        start = draw(st.integers(p_start, p_end))
    if place == "zero":
        duration = 0
    elif place in ("overhang_end", "covering"):
        duration = max(0, p_end - start) + draw(small)
    else:
        duration = draw(st.integers(0, max(0, p_end - start)))
    return start, duration


@st.composite
def trace_tree(draw: st.DrawFn, processes: list[str], root_duration: int) -> list[dict]:
    """One trace's spans as plain records (index of the parent, window in µs, kind, name,
    process, FOLLOWS_FROM), depth first, up to six levels."""
    max_depth = draw(st.integers(1, 6))
    places = INSIDE + OUTSIDE if draw(st.booleans()) else INSIDE
    root = {
        "parent": None,
        "start": US0 + draw(st.integers(0, 3)),
        "duration": root_duration,
        "depth": 1,
    }
    nodes = [root]
    pending = [0]
    while pending and len(nodes) < MAX_SPANS:
        index = pending.pop()
        parent = nodes[index]
        if parent["depth"] >= max_depth:
            continue
        previous = None
        # Calls one after another (N+1 queries): where Jaeger's strict rule differs.
        sequential = draw(st.integers(0, 2)) == 2
        for _ in range(draw(st.integers(0, 4 if sequential else 3))):
            if len(nodes) >= MAX_SPANS:
                break
            if sequential:
                start = previous["start"] + previous["duration"] if previous else parent["start"]
                duration = draw(st.integers(0, max(1, parent["duration"] // 2)))
            else:
                place = draw(st.sampled_from(places))
                start, duration = _child_window(draw, place, parent, previous)
            child = {"parent": index, "start": start, "duration": duration,
                     "depth": parent["depth"] + 1}  # fmt: skip
            nodes.append(child)
            pending.append(len(nodes) - 1)
            previous = child
    odd = draw(st.integers(0, 4)) == 4
    for node in nodes:
        node["kind"] = draw(st.sampled_from(KINDS))
        names = ODD_NAMES if odd and draw(st.booleans()) else NAMES
        node["name"] = draw(st.sampled_from(names)).replace("{n}", str(draw(st.integers(1, 40))))
        node["process"] = draw(st.sampled_from(processes))
        node["follows_from"] = node["parent"] is not None and draw(st.integers(0, 9)) == 0
        node["tags"] = draw(st.lists(st.sampled_from(EXTRA_TAGS), max_size=2, unique_by=str))
    return nodes


def _span_json(draw: st.DrawFn, trace_id: str, ids: list[str], node: dict) -> dict:
    """A span as the writer writes it (or, drawn, as other producers do: keys left out)."""
    tags = list(node["tags"])
    if node["kind"] is not None:
        kind_tag = {"key": "span.kind", "type": "string", "value": node["kind"]}
        tags.insert(draw(st.integers(0, len(tags))), kind_tag)
    references: list[dict] = []
    if node["parent"] is not None:
        ref_type = "FOLLOWS_FROM" if node["follows_from"] else "CHILD_OF"
        references.append({"refType": ref_type, "traceID": trace_id, "spanID": ids[node["parent"]]})
    span: dict[str, Any] = {
        "traceID": trace_id,
        "spanID": ids[node["index"]],
        "flags": 1,
        "operationName": node["name"],
        "references": references,
        "startTime": node["start"],
        "duration": node["duration"],
        "tags": tags,
        "logs": [],
        "processID": node["process"],
        "warnings": None,
    }
    if draw(st.integers(0, 3)) == 3:  # the keys a producer may leave out
        for key in draw(st.lists(st.sampled_from(["flags", "logs", "warnings", "tags"]))):
            span.pop(key, None)
        if not references and draw(st.booleans()):
            span.pop("references")
    if draw(st.integers(0, 3)) == 3:  # keys in another order
        keys = draw(st.permutations(list(span)))
        span = {key: span[key] for key in keys}
    return span


def _processes(draw: st.DrawFn, process_ids: list[str]) -> dict:
    return {
        key: {"serviceName": draw(st.sampled_from(SERVICES)), "tags": draw(HOST_TAGS)}
        for key in process_ids
    }


@st.composite
def profile_documents(draw: st.DrawFn, mutate: bool = True) -> bytes:
    """A Jaeger document of one to three traces built to exercise the critical-path walk
    (module docstring), perhaps changed in one of the ways of ``MUTATIONS`` (never when not
    ``mutate``)."""
    process_ids = [f"p{n}" for n in range(1, draw(st.integers(1, 4)) + 1)]
    processes = _processes(draw, process_ids)
    same_duration = draw(st.booleans())  # equal roots: the slowest picked by arrival
    first_duration = draw(st.integers(0, 60))
    traces = []
    base = draw(st.integers(0, 2**120 - 1))
    for low in draw(st.permutations(range(1, draw(st.integers(1, 3)) + 1))):
        trace_id = f"{base:030x}{low:02x}"
        duration = first_duration if same_duration else draw(st.integers(0, 60))
        nodes = draw(trace_tree(process_ids, duration))
        ids = _span_ids(draw, len(nodes))
        for index, node in enumerate(nodes):
            node["index"] = index
        order = draw(st.permutations(range(len(nodes))))  # any order in the file
        spans = [_span_json(draw, trace_id, ids, nodes[index]) for index in order]
        if draw(st.integers(0, 3)) == 3:  # the same processes told otherwise, or not
            processes = _processes(draw, process_ids)
        traces.append({"traceID": trace_id, "spans": spans, "processes": processes,
                       "warnings": None})  # fmt: skip
    shape = draw(st.sampled_from(["data", "data", "data", "api", "trace", "one"]))
    mutation = draw(st.sampled_from(MUTATIONS)) if mutate and draw(st.integers(0, 2)) == 2 else ""
    if mutation:
        _mutate(draw, mutation, traces)
    if shape == "api":  # what Jaeger's query API answers
        document: Any = {"data": traces, "total": 0, "limit": 0, "offset": 0, "errors": None}
    elif shape == "trace" and len(traces) == 1:
        document = traces[0]
    elif shape == "one" and len(traces) == 1:
        document = {"data": traces[0]}
    else:
        document = {"data": traces}
    if mutation == "processes_beside_data" and isinstance(document.get("data"), list):
        document["processes"] = _processes(draw, process_ids)
    text = json.dumps(
        document,
        ensure_ascii=draw(st.integers(0, 4)) == 4,  # \u escapes for non-ASCII characters
        indent=draw(st.sampled_from([None, None, 1])),
        separators=draw(st.sampled_from([(",", ":"), (", ", ": ")])),
    )
    if mutation == "duplicate_key":  # a key twice in one object: the decoder keeps the last
        text = text.replace('"operationName":', '"operationName": "first", "operationName":', 1)
    event(f"mutation: {mutation or 'none'}")
    return text.encode()


def _respell_trace_id(trace: dict, spell: Callable[[str], str]) -> None:
    """The trace's id spelt otherwise everywhere it is written."""
    trace["traceID"] = spell(trace["traceID"])
    for span in trace["spans"]:
        if "traceID" in span:
            span["traceID"] = spell(span["traceID"])
        for reference in span.get("references") or ():
            reference["traceID"] = spell(reference["traceID"])


def _mutate(draw: st.DrawFn, mutation: str, traces: list[dict]) -> None:
    trace = draw(st.sampled_from(traces))
    spans = trace["spans"]
    span = draw(st.sampled_from(spans))
    children = [s for s in spans if s.get("references")]
    if mutation == "duplicate_id":
        span["spanID"] = draw(st.sampled_from(spans))["spanID"]
    elif mutation == "orphan" and children:
        draw(st.sampled_from(children))["references"][0]["spanID"] = "00000000deadbeef"
    elif mutation == "two_roots" and children:
        draw(st.sampled_from(children))["references"] = []
    elif mutation == "loop":
        root = next(s for s in spans if not s.get("references"))
        other = draw(st.sampled_from(spans))["spanID"]
        root["references"] = [{"refType": "CHILD_OF", "traceID": trace["traceID"],
                               "spanID": other}]  # fmt: skip
    elif mutation == "never_ended":
        span.pop("duration")
    elif mutation == "ends_before_start":
        span["duration"] = -draw(st.integers(1, 10))
    elif mutation in ("split_trace", "same_trace_spelt_twice") and len(spans) > 1:
        cut = draw(st.integers(1, len(spans) - 1))
        second = dict(trace, spans=spans[cut:])
        trace["spans"] = spans[:cut]
        traces.insert(draw(st.integers(traces.index(trace) + 1, len(traces))), second)
        if mutation == "same_trace_spelt_twice":  # one id, written two ways
            _respell_trace_id(second, lambda trace_id: trace_id.lstrip("0") or "0")
    elif mutation == "upper_case_id":
        span["spanID"] = span["spanID"].upper()
    elif mutation == "short_id":
        span["spanID"] = span["spanID"].lstrip("0")[:-1] or "1"
    elif mutation == "short_trace_id":  # Jaeger's 64-bit trace ids
        _respell_trace_id(trace, lambda trace_id: trace_id[16:])
    elif mutation == "upper_case_trace_id":
        _respell_trace_id(trace, str.upper)
    elif mutation == "trace_id_only_on_the_entry":
        for each in spans:
            each.pop("traceID", None)
            for reference in each.get("references") or ():
                reference["traceID"] = ""  # as the span's own (absent) one
    elif mutation == "entry_trace_id_differs":
        trace["traceID"] = draw(st.sampled_from(["", "0" * 31 + "1", "not an id"]))
    elif mutation == "unknown_key":
        where = draw(st.sampled_from([span, trace]))
        where["x-extra"] = draw(st.sampled_from([1, None, "s", [1, {"a": [None]}], {"b": {}}]))
    elif mutation == "span_warning":
        span["warnings"] = ["clock skew adjustment disabled"]
    elif mutation == "logs":
        span["logs"] = [{"timestamp": span["startTime"], "fields": [
            {"key": "event", "type": "string", "value": "retry"}]}]  # fmt: skip
    elif mutation == "extreme_times":
        top = (2**63 - 1) // 1000
        span["startTime"], span["duration"] = draw(
            st.sampled_from([(top, 0), (top, top), (top - 5, 10), (0, top), (0, -(2**63 // 1000))])
        )
    elif mutation == "parent_field" and span.get("references"):
        span["parentSpanID"] = span["references"][0]["spanID"]
        span["references"] = draw(st.sampled_from([[], span["references"]]))
    elif mutation == "zero_parent_field" and not span.get("references"):
        span["parentSpanID"] = draw(st.sampled_from(["", "0", "0" * 16, "0" * 32, "00"]))
    elif mutation == "null_references" and not span.get("references"):
        span["references"] = None
    elif mutation == "inline_process":
        span["process"] = draw(st.sampled_from([None, {"serviceName": "inline", "tags": []}]))
    elif mutation == "empty_entry":
        empty = {"traceID": draw(st.sampled_from([trace["traceID"], "", "ab"])), "spans": [],
                 "processes": trace["processes"]}  # fmt: skip
        traces.insert(draw(st.integers(0, len(traces))), empty)


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(
    profile_documents(),
    st.booleans(),
    st.booleans(),
    st.sampled_from([2, 20]),
)
def test_any_document_is_charged_exactly_or_declined(
    data: bytes, adjust_skew: bool, strict: bool, min_names: int
) -> None:
    taken = same_as_python(data, adjust_skew, strict, min_names)
    event(f"C engine took it: {taken}")


@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(profile_documents(), min_size=2, max_size=4),
    st.booleans(),
    st.booleans(),
    st.sampled_from([2, 20]),
)
def test_documents_in_a_row_give_the_python_profile(
    documents: list[bytes], adjust_skew: bool, strict: bool, min_names: int
) -> None:
    """One analyzer fed several documents, some by the C engine, some by the Python path (as
    the command does): names counted towards folding and traces' order carry across."""
    native, reference = analyzer_pair(strict, min_names)
    for data in documents:
        charge_both(data, native, reference, adjust_skew)
        assert observed(native) == observed(reference)


@settings(max_examples=40, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(profile_documents(), min_size=1, max_size=3),
    st.lists(profile_documents(), min_size=1, max_size=3),
    st.booleans(),
    st.sampled_from([2, 20]),
)
def test_merged_analyzers_give_the_python_profile(
    first: list[bytes], second: list[bytes], adjust_skew: bool, min_names: int
) -> None:
    """Two workers' analyzers, merged, as ``analyze_files`` does."""
    merged = []
    for engine in ("native", "python"):
        parts = []
        for documents in (first, second):
            part = ProfileAnalyzer(min_names=min_names)
            for data in documents:
                if engine == "python" or not native_profile.charge_document(
                    data, part, adjust_skew
                ):
                    python_path(data, part, adjust_skew)
            parts.append(part)
        parts[0].merge(parts[1])
        merged.append(observed(parts[0]))
    assert merged[0] == merged[1]


@settings(max_examples=80, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(reference_documents(), tag_documents()), st.booleans())
def test_the_projections_documents(data: bytes, adjust_skew: bool) -> None:
    """The projection's own strategies: odd ids, references, processes, tags of every type."""
    same_as_python(data, adjust_skew)


# --- what the C engine must decline -----------------------------------------------------------

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"


def _span(span_id: str, parent: str | None, start: int, duration: int | None, **extra) -> dict:
    span: dict[str, Any] = {
        "traceID": TRACE_ID,
        "spanID": span_id,
        "operationName": extra.pop("name", f"op {span_id[-1]}"),
        "references": [{"refType": "CHILD_OF", "traceID": TRACE_ID, "spanID": parent}]
        if parent
        else [],
        "startTime": US0 + start,
        "tags": extra.pop("tags", []),
        "processID": extra.pop("process", "p1"),
    }
    if duration is not None:
        span["duration"] = duration
    span.update(extra)
    return span


def _document(spans: list[dict], **trace_fields) -> dict:
    processes = {
        "p1": {"serviceName": "frontend", "tags": [{"key": "hostname", "type": "string",
                                                   "value": "h1"}]},
        "p2": {"serviceName": "cart", "tags": [{"key": "hostname", "type": "string",
                                               "value": "h2"}]},
    }  # fmt: skip
    return {"data": [{"traceID": TRACE_ID, "spans": spans, "processes": processes,
                      **trace_fields}]}  # fmt: skip


A, B, C = "00000000000000a1", "00000000000000b2", "00000000000000c3"


def base_spans() -> list[dict]:
    """A root on host h1 calling b on h2, which calls c: nothing wrong with it."""
    return [_span(A, None, 0, 100), _span(B, A, 10, 50, process="p2"), _span(C, B, 20, 30)]


def _encoded(document: dict) -> bytes:
    return json.dumps(document).encode()


def _changed(change: Callable[[list[dict]], Any]) -> bytes:
    spans = base_spans()
    change(spans)
    return _encoded(_document(spans))


def _split(spans: list[dict]) -> dict:
    document = _document(spans[:2])
    second = dict(document["data"][0], spans=spans[2:])
    document["data"].append(second)
    return document


DECLINED: dict[str, bytes] = {
    "duplicate span id": _changed(lambda s: s[2].update(spanID=B)),
    "orphan": _changed(lambda s: s[2]["references"][0].update(spanID="00000000deadbeef")),
    "several roots": _changed(lambda s: s[2].update(references=[])),
    "parent loop": _changed(
        lambda s: s[0].update(
            references=[{"refType": "CHILD_OF", "traceID": TRACE_ID, "spanID": C}]
        )
    ),
    "never ended": _changed(lambda s: s[2].pop("duration")),
    "never ended (null)": _changed(lambda s: s[2].update(duration=None)),
    "ends before it starts": _changed(lambda s: s[2].update(duration=-3)),
    "clock skew": _changed(lambda s: s[1].update(startTime=US0 + 80)),  # b on h2 sticks out
    "trace over two data entries": _encoded(_split(base_spans())),
    "backslash in a name": _changed(lambda s: s[1].update(operationName="C:\\temp")),
    "escaped name": _changed(lambda s: s[1].update(operationName="caf\u00e9")),
    "unknown key in a span": _changed(lambda s: s[1].update(baggage={"a": 1})),
    "unknown key in the trace": _encoded(_document(base_spans(), extra=[1, 2])),
}


def test_the_base_document_is_taken() -> None:
    assert same_as_python(_encoded(_document(base_spans())), adjust_skew=True)


# Traces that assembly changes or reports on: the C engine leaves them to the Python path (a
# document of only such a trace is declined, or read exactly: the Python path's answer either
# way), and where they are among others, these need not wait for them.
TRACE_CASES = ("never ended", "never ended (null)", "ends before it starts")
ONE_TRACE_CASES = (
    "duplicate span id",
    "orphan",
    "several roots",
    "parent loop",
    "clock skew",
    *TRACE_CASES,
)


@pytest.mark.parametrize("case", sorted(DECLINED))
def test_declines(case: str) -> None:
    data = DECLINED[case]
    for adjust_skew in (True, False):
        if case == "clock skew" and not adjust_skew:
            assert same_as_python(data, adjust_skew)  # without adjustment, nothing moves
            continue
        analyzer = ProfileAnalyzer()
        if case not in TRACE_CASES + ONE_TRACE_CASES:
            assert native_profile.charge_document(data, analyzer, adjust_skew) is None
            assert analyzer.traces == 0 and not analyzer.profile().endpoints
        same_as_python(data, adjust_skew)


@pytest.mark.parametrize("case", sorted(DECLINED))
def test_among_other_traces(case: str) -> None:
    """The case's trace second of four in one document: read exactly, and taken where only
    that trace needs the Python path."""
    clean = [json.loads(data)["data"][0] for data in one_document_per_trace(12, seed=8)[:3]]
    document = json.loads(DECLINED[case])
    document["data"][1:1] = clean[1:]
    document["data"].insert(0, clean[0])
    data = _encoded(document)
    for adjust_skew in (True, False):
        for strict in (False, True):
            taken = same_as_python(data, adjust_skew, strict, min_names=2)
            if case in ONE_TRACE_CASES:
                assert taken


@pytest.mark.parametrize(
    "spans",
    [
        lambda s: s[1].update(spanID=B.upper()),
        lambda s: s[1].update(spanID="b2"),  # leading zeros left out
        lambda s: s[1]["references"][0].update(spanID=A.upper()),
    ],
    ids=["upper-case", "short", "upper-case-reference"],
)
def test_non_canonical_ids_are_declined_or_read_exactly(
    spans: Callable[[list[dict]], Any],
) -> None:
    data = _changed(spans)
    for adjust_skew in (True, False):
        same_as_python(data, adjust_skew)


def test_declined_leaves_a_used_analyzer_as_it_was() -> None:
    native, reference = analyzer_pair(strict=False, min_names=2)
    for data in one_document_per_trace(60, seed=4)[:5]:
        charge_both(data, native, reference, adjust_skew=True)
    for case in sorted(DECLINED):
        before = pickle.dumps(native)
        if native_profile.charge_document(DECLINED[case], native, True) is None:
            assert pickle.dumps(native) == before, case


# --- hostile bytes ----------------------------------------------------------------------------


def _deep(depth: int) -> bytes:
    return b'{"data": ' + b"[" * depth + b"]" * depth + b"}"


def _with_name(raw: bytes) -> bytes:
    """The base document with ``raw`` (JSON text, quotes included) as b's operationName."""
    return _encoded(_document(base_spans())).replace(b'"op 2"', raw, 1)


HOSTILE: dict[str, bytes] = {
    "empty": b"",
    "nul": b"\x00",
    "nul inside": _encoded(_document(base_spans())).replace(b'"op 2"', b'"op\x002"'),
    "escaped nul": _with_name(b'"op\\u00002"'),
    "invalid utf-8": _with_name(b'"op\xff\xfe"'),
    "overlong utf-8": _with_name(b'"op\xc0\xaf"'),
    "lone surrogate": _with_name(b'"op\\ud800"'),
    "surrogate pair": _with_name(b'"op\\ud83d\\ude00"'),
    "bad escape": _with_name(b'"op\\x41"'),
    "raw control character": _with_name(b'"op\t2"'),
    "deep arrays": _deep(100_000),
    "deep in a span": _encoded(_document(base_spans())).replace(
        b'"tags": []', b'"tags": [], "x": ' + b"[" * 50_000 + b"]" * 50_000, 1
    ),
    "deep objects": b'{"data": [' + b'{"a":' * 20_000 + b"1" + b"}" * 20_000 + b"]}",
    "huge number": _encoded(_document(base_spans())).replace(str(US0 + 10).encode(), b"9" * 400, 1),
    "start past int64": _encoded(_document(base_spans())).replace(
        str(US0 + 10).encode(), str(2**63).encode(), 1
    ),
    "negative start": _encoded(_document(base_spans())).replace(str(US0 + 10).encode(), b"-1", 1),
    "float start": _encoded(_document(base_spans())).replace(
        str(US0 + 10).encode(), str(US0 + 10).encode() + b".0", 1
    ),
    "exponent duration": _encoded(_document(base_spans())).replace(
        b'"duration": 50', b'"duration": 5e1'
    ),
    "minus zero duration": _encoded(_document(base_spans())).replace(
        b'"duration": 50', b'"duration": -0'
    ),
    "string duration": _encoded(_document(base_spans())).replace(
        b'"duration": 50', b'"duration": "50"'
    ),
    "end past int64": _encoded(
        _document(
            [_span(A, None, 0, (2**63 - 1) // 1000), _span(B, A, 10, (2**63 - 1) // 1000 - US0)]
        )
    ),
    "truncated": _encoded(_document(base_spans()))[:-7],
    "trailing garbage": _encoded(_document(base_spans())) + b" }",
    "two documents": _encoded(_document(base_spans())) * 2,
    "byte order mark": b"\xef\xbb\xbf" + _encoded(_document(base_spans())),
    "leading whitespace": b" \n\t\r" + _encoded(_document(base_spans())),
    "duplicate keys": _encoded(_document(base_spans())).replace(
        b'"spanID": "' + B.encode() + b'"',
        b'"spanID": "' + B.encode() + b'", "spanID": "' + C.encode() + b'"',
    ),
    "duplicate data": b'{"data": [], ' + _encoded(_document(base_spans()))[1:],
    "data null": b'{"data": null}',
    "spans null": b'{"data": [{"traceID": "' + TRACE_ID.encode() + b'", "spans": null}]}',
    "not jaeger": b'{"resourceSpans": []}',
    "a number": b"12",
    "a string": b'"data"',
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_bytes(case: str) -> None:
    data = HOSTILE[case]
    for adjust_skew in (True, False):
        same_as_python(data, adjust_skew)


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(st.data(), st.booleans())
def test_corrupted_documents(data: st.DataObject, adjust_skew: bool) -> None:
    original = data.draw(profile_documents(mutate=False))
    same_as_python(corrupt(data, original, edits=3, width=4), adjust_skew)


# --- the engine's own state: caches kept between documents, one call at a time ----------------


class _Nested(ProfileAnalyzer):
    """An analyzer that, as each trace is recorded, tries to charge another document: the
    engine is busy then (its caches are its own) and must say so by declining."""

    def __init__(self, inner: bytes) -> None:
        super().__init__()
        self.inner = inner
        self.answers: list[object] = []

    def add_charged(self, service: str, name: str, duration_ns: int, local: dict) -> None:
        self.answers.append(native_profile.charge_document(self.inner, ProfileAnalyzer(), True))
        super().add_charged(service, name, duration_ns, local)


def test_a_call_made_while_another_runs_declines_and_the_first_goes_on() -> None:
    data = b"".join(one_document_per_trace(3, seed=4)[:1])
    nested, reference = _Nested(data), ProfileAnalyzer()
    assert native_profile.charge_document(data, nested, True) is not None
    assert nested.answers and all(answer is None for answer in nested.answers)
    python_path(data, reference, True)
    assert observed(nested) == observed(reference)
    assert same_as_python(data, adjust_skew=True)  # and the engine works after


def test_a_hook_that_fails_fails_the_call_and_the_engine_works_after(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from spanscope.formats import jaeger_lean

    def broken(raw: bytes) -> None:
        raise RuntimeError("a hook failed")

    # A tag list never seen before, so the engine has to ask for its kind.
    tags = [{"key": "unique.to.this.test", "type": "string", "value": "hook-failure"}]
    data = _changed(lambda spans: spans[1].update(tags=tags))
    monkeypatch.setattr(jaeger_lean, "tag_kind", broken)
    with pytest.raises(RuntimeError, match="a hook failed"):
        native_profile.charge_document(data, ProfileAnalyzer(), True)
    monkeypatch.undo()
    assert same_as_python(data, adjust_skew=True)


def test_more_names_and_tag_lists_than_the_caches_hold() -> None:
    """Past 16,384 distinct names (and tag lists) a document holds its own, and the caches are
    cleared before the next one: documents in a row still give the Python profile."""
    native, reference = analyzer_pair(strict=False, min_names=10**6)
    for document in range(20):
        spans = [_span(A, None, 0, 100_000, name="root")]
        for index in range(1000):
            number = document * 1000 + index
            span_id = f"{0xB000 + number:016x}"
            tags = [{"key": "n", "type": "int64", "value": number}]
            spans.append(_span(span_id, A, index * 10, 5, name=f"call {number}", tags=tags))
        assert charge_both(_encoded(_document(spans)), native, reference, adjust_skew=True)
    assert observed(native) == observed(reference)


def test_more_process_sets_than_the_engine_remembers() -> None:
    """Traces whose processes differ (ten sets in turn, more than the eight the engine compares
    by bytes): each trace gets its own services."""
    native, reference = analyzer_pair(strict=False)
    for round_ in range(3):
        for variant in range(10):
            document = _document(base_spans())
            processes = document["data"][0]["processes"]
            processes["p2"]["serviceName"] = f"cart-{variant}"
            document["data"][0]["traceID"] = TRACE_ID
            data = _encoded(document).replace(
                TRACE_ID.encode(), f"{round_ + 1}{variant:031x}".encode()
            )
            assert charge_both(data, native, reference, adjust_skew=True)
    assert observed(native) == observed(reference)
    services = {frame.service for item in native.profile().endpoints for frame in item.frames}
    assert {f"cart-{variant}" for variant in range(10)} <= services


def _trace_numbered(number: int, child: str, ended: bool) -> dict:
    """The base trace under trace id ``number``, its child named ``child``, its grandchild
    ended or not."""
    spans = [
        _span(A, None, 0, 100),
        _span(B, A, 10, 50, name=child),
        _span(C, B, 20, 30 if ended else None),
    ]
    text = json.dumps(_document(spans)["data"][0]).replace(TRACE_ID, f"{number:032x}")
    return json.loads(text)


def test_a_trace_left_to_python_keeps_its_place() -> None:
    """Three requests of one endpoint, equally long: the slowest are picked first come first,
    so the profile of the slow ones shows which came first. The first is left to the Python
    path (a span that never ended); it must still count first."""
    document = _document(base_spans())
    document["data"] = [
        _trace_numbered(1, "left", ended=False),
        _trace_numbered(2, "walked", ended=True),
        _trace_numbered(3, "also walked", ended=True),
    ]
    assert same_as_python(_encoded(document), adjust_skew=True)
