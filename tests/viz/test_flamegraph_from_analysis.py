"""``profile_flamegraph``: the aggregate flame graph drawn from the analyzer's own profile is the
picture ``traces_flamegraph`` (``spanscope flamegraph --aggregate``, ``/api/v1/flamegraph``)
draws of the same traces, and drawing it changes nothing in the analyzer's report. Its error
marks come from the traces with an error span only: hypothesis checks that they name the same
stacks as a walk of every trace."""

from __future__ import annotations

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spanscope.analysis.analyze import Analyzer
from spanscope.analysis.errors import error_ids
from spanscope.analysis.profile import ProfileCollector
from spanscope.assembly import assemble
from spanscope.model import Span, StatusCode, Trace
from spanscope.synthetic import generate_spans
from spanscope.viz.flamegraph import profile_flamegraph, traces_flamegraph
from tests.viz.conftest import fixture_traces

KAFKA = "zipkin/zipkin-lens__testdata__messaging-kafka.json"


def _shop() -> list[Trace]:
    """The shop's current release and its next one (errors, names with ids in them)."""
    later = 1_764_150_000_000_000_000 + 3600 * 10**9
    return assemble(generate_spans(500, seed=3)) + assemble(
        generate_spans(500, seed=4, start_ns=later, next_release=True)
    )


def _analyzed(traces: list[Trace]) -> Analyzer:
    analyzer = Analyzer()
    for trace in traces:
        analyzer.add(trace)
    return analyzer


@pytest.mark.parametrize("source", ["shop", KAFKA])
def test_drawn_from_the_analysis_it_is_the_command_s_picture(source: str) -> None:
    traces = _shop() if source == "shop" else fixture_traces(KAFKA)
    analyzer = _analyzed(traces)
    before = msgspec.json.encode(analyzer.report())
    endpoints = [None, *((e.service, e.operation) for e in analyzer.report().endpoints[:2])]
    for endpoint in endpoints:
        for slow in (True, False):
            drawn = profile_flamegraph(
                analyzer.profiles, traces, endpoint=endpoint, slow=slow, services=["zz"]
            )
            assert drawn == traces_flamegraph(
                traces, endpoint=endpoint, slow=slow, services=["zz"]
            ), (endpoint, slow)
            assert "<svg" in drawn[0] and drawn[1] > 0 and drawn[2] > 0
    # Drawing asks the profile only: the report is what it was.
    assert msgspec.json.encode(analyzer.report()) == before
    if source == "shop":
        assert 'class="f err"' in profile_flamegraph(analyzer.profiles, traces)[0]


def test_an_endpoint_no_trace_has_is_a_lookup_error() -> None:
    traces = fixture_traces(KAFKA)
    with pytest.raises(LookupError, match="no trace has the root nowhere:GET /"):
        profile_flamegraph(_analyzed(traces).profiles, traces, endpoint=("nowhere", "GET /"))


@st.composite
def _traces(draw) -> list[Trace]:
    """Small traces of random trees: few names and services, so stacks repeat across traces;
    some spans failed (an error status or an HTTP 5xx), some traces not at all."""
    spans = []
    for number in range(draw(st.integers(1, 6))):
        trace_id = f"{number + 1:032x}"
        count = draw(st.integers(1, 8))
        for index in range(count):
            parent = draw(st.integers(-1, index - 1)) if index else -1
            failed = draw(st.sampled_from(["", "", "", "status", "http"]))
            spans.append(
                Span(
                    trace_id,
                    f"{number * 16 + index + 1:016x}",
                    draw(st.sampled_from(["GET /a", "SELECT", "call"])),
                    1_000 + index,
                    2_000 - index,
                    f"{number * 16 + parent + 1:016x}" if parent >= 0 else "",
                    service_name=draw(st.sampled_from(["web", "db"])),
                    status_code=StatusCode.ERROR if failed == "status" else StatusCode.UNSET,
                    attributes={"http.response.status_code": 503} if failed == "http" else {},
                )
            )
    return assemble(spans)


@settings(max_examples=200, deadline=None)
@given(_traces())
def test_error_marks_come_from_the_traces_with_an_error_span_alone(traces: list[Trace]) -> None:
    profiles = ProfileCollector()
    for trace in traces:
        profiles.add(trace)
    folding = profiles.folding()
    every = profiles.error_stacks(traces, folding)
    assert profiles.error_stacks([t for t in traces if error_ids(t)], folding) == every
