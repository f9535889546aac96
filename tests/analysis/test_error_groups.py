"""Originating errors group by message template, hex ids and numbers alike.

A random 8-character hex id is all digits about once in 43: its message's template then reads
``<num>`` where the others read ``<hex>``. The demo shop's failed payments ("charge 0c1f2e3d
timed out") showed as two groups before; they are one, shown with the commonest template.
"""

from __future__ import annotations

import pickle

from hypothesis import given, settings
from hypothesis import strategies as st

from spanscope.analysis.analyze import Analyzer
from spanscope.analysis.results import AnalysisOptions, ErrorGroup
from spanscope.assembly import assemble
from spanscope.model import Event, StatusCode
from spanscope.synthetic import generate_spans
from tests.analysis.builders import T0, build, span


def _failed(trace: str, message: str, exception_type: str = "Timeout"):
    event = Event(T0, "exception", {"exception.type": exception_type, "exception.message": message})
    return build(
        span(f"r{trace}", None, 0, 10, service="web", operation="POST /pay", trace=trace,
             status_code=StatusCode.ERROR),
        span(f"p{trace}", f"r{trace}", 1, 9, service="pay", operation="charge", trace=trace,
             status_code=StatusCode.ERROR, events=[event]),
    )  # fmt: skip


def _origins(*analyzers: Analyzer) -> list[ErrorGroup]:
    first, *rest = analyzers
    for other in rest:
        first.merge(pickle.loads(pickle.dumps(other)))
    return first.report().errors.origins


def _analyzer(traces) -> Analyzer:
    analyzer = Analyzer(AnalysisOptions())
    for trace in traces:
        analyzer.add(trace)
    return analyzer


def test_an_all_digit_hex_id_joins_its_group_under_the_commonest_template():
    traces = [
        _failed("1", "charge 12345678 timed out after 2000 ms"),  # all digits: "<num>"
        _failed("2", "charge 0a1b2c3d timed out after 2000 ms"),
        _failed("3", "charge 5e6f7a8b timed out after 1500 ms"),
    ]
    (group,) = _origins(_analyzer(traces))
    assert group.message_template == "charge <hex> timed out after <num> ms"
    assert (group.traces, group.failed_traces) == (3, 3)
    # The example is the first trace met, with its own message.
    assert group.example_message == "charge 12345678 timed out after 2000 ms"


def test_different_messages_and_types_stay_apart():
    traces = [
        _failed("1", "charge 0a1b2c3d timed out"),
        _failed("2", "charge 0a1b2c3d declined"),
        _failed("3", "charge 0a1b2c3d timed out", exception_type="Declined"),
    ]
    origins = _origins(_analyzer(traces))
    assert sorted((g.exception_type, g.message_template) for g in origins) == [
        ("Declined", "charge <hex> timed out"),
        ("Timeout", "charge <hex> declined"),
        ("Timeout", "charge <hex> timed out"),
    ]


@settings(max_examples=30, deadline=None)
@given(
    st.lists(st.sampled_from(["12345678", "0a1b2c3d", "99999999", "1deadbee"]), min_size=1,
             max_size=12),
    st.integers(min_value=0, max_value=12),
)  # fmt: skip
def test_merged_halves_show_the_template_one_process_shows(ids, cut):
    """Ties between templates go to the first in sort order, so the order of merging never
    changes what the report shows."""
    traces = [_failed(f"{i + 1:x}", f"charge {id_} timed out") for i, id_ in enumerate(ids)]
    whole = _origins(_analyzer(traces))
    halves = _origins(_analyzer(traces[:cut]), _analyzer(traces[cut:]))
    assert [(g.message_template, g.traces) for g in halves] == [
        (g.message_template, g.traces) for g in whole
    ]
    (group,) = whole
    digits = sum(id_.isdigit() for id_ in ids)
    expected = "charge <num> timed out" if digits > len(ids) - digits else "charge <hex> timed out"
    assert group.message_template == expected


def test_the_demo_shops_failed_payments_are_one_group():
    """``make demo``'s shop (3,000 traces, the default seed) writes "charge %08x timed out
    after 2000 ms"; one of its 18 ids is all digits."""
    traces = assemble(generate_spans(3000))
    origins = _origins(_analyzer(traces))
    payment = [g for g in origins if g.service == "payment"]
    assert len(payment) == 1
    assert payment[0].message_template == "charge <hex> timed out after <num> ms"
