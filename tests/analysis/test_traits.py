"""What the slowest and the failed requests have in common: hand-built requests with a known
answer, ids folded in values, failure restatements left out, and merged halves agreeing with
one analyzer."""

from __future__ import annotations

import pickle
from zlib import crc32

from hypothesis import given, settings
from hypothesis import strategies as st

from spanscope.analysis import AnalysisOptions, analyze, traits
from spanscope.analysis.analyze import Analyzer
from spanscope.analysis.results import TraitFinding
from spanscope.analysis.traits import trait_text
from spanscope.model import StatusCode
from tests.analysis.builders import build, span

ROOT_RESOURCE = {"service.name": "web", "host.name": "web-1", "service.version": "2.0"}


def _request(
    number: int,
    ms: float,
    db_host: str = "db-1",
    failed: bool = False,
    root_attributes: dict | None = None,
):
    """web GET /users/{id} -> inventory SELECT, the database call taking ``ms``."""
    trace = f"{number + 1:x}"
    error = {"status_code": StatusCode.ERROR} if failed else {}
    attributes = {
        "http.route": "/users/{id}",
        "url.path": f"/users/{1000 + number}",
        "http.response.status_code": 500 if failed else 200,
        **(root_attributes or {}),
    }
    return build(
        span(f"r{trace}", None, 0, ms + 2, service="web", operation="GET /users/{id}",
             trace=trace, attributes=attributes, resource_attributes=ROOT_RESOURCE, **error),
        span(f"q{trace}", f"r{trace}", 1, ms + 1, service="inventory", operation="SELECT",
             trace=trace, resource_attributes={"service.name": "inventory", "host.name": db_host},
             **error),
    )  # fmt: skip


def _traits(traces, top: int = 10) -> list[TraitFinding]:
    return analyze(traces, AnalysisOptions(top=top)).traits


def test_the_slowest_requests_all_ran_on_one_database_host():
    # 60 requests: the slowest 5% (3) went to db-3, the rest to db-1 and db-2.
    traces = [_request(n, 5 + n % 7, db_host=f"db-{1 + n % 2}") for n in range(57)]
    traces += [_request(57 + n, 500 + n, db_host="db-3") for n in range(3)]
    (finding,) = [t for t in _traits(traces) if t.cohort == "slowest"]
    assert (finding.endpoint_service, finding.endpoint_operation) == ("web", "GET /users/{id}")
    assert (finding.service, finding.key, finding.value) == ("inventory", "host.name", "db-3")
    assert trait_text(finding) == "inventory host.name=db-3"
    assert (finding.cohort_traces, finding.cohort_with, finding.cohort_share) == (3, 3, 1.0)
    assert (finding.rest_traces, finding.rest_with, finding.rest_share) == (57, 0, 0.0)


def test_failed_requests_share_a_region_and_their_status_code_is_not_news():
    traces = [
        _request(n, 10, root_attributes={"cloud.region": "us-east"}) for n in range(30)
    ] + [
        _request(30 + n, 10, failed=True, root_attributes={"cloud.region": "eu-west"})
        for n in range(4)
    ] + [_request(34, 10, root_attributes={"cloud.region": "eu-west"})]  # fmt: skip
    failed = [t for t in _traits(traces) if t.cohort == "failed"]
    assert [(t.service, t.key, t.value) for t in failed] == [("", "cloud.region", "eu-west")]
    (finding,) = failed
    assert (finding.cohort_with, finding.cohort_traces) == (4, 4)
    assert (finding.rest_with, finding.rest_traces) == (1, 31)
    assert trait_text(finding) == "cloud.region=eu-west"


def test_ids_in_root_attributes_are_folded_so_paths_can_be_a_trait():
    traces = [_request(n, 5, root_attributes={"app.tenant": f"t-{n % 3}-x"}) for n in range(30)]
    traces += [
        _request(30 + n, 900, root_attributes={"app.cart": f"cart/{n}/big"}) for n in range(3)
    ]
    slowest = [t for t in _traits(traces) if t.cohort == "slowest"]
    assert ("", "app.cart", "cart/<num>/big") in {(t.service, t.key, t.value) for t in slowest}
    # Every request has url.path /users/<num>: the same in both, so never a trait.
    assert all(t.key != "url.path" for t in slowest)


def test_nothing_is_a_trait_when_the_slow_requests_look_like_the_rest():
    traces = [_request(n, 1 + n, db_host=f"db-{1 + n % 2}") for n in range(60)]
    assert _traits(traces) == []


def test_too_few_requests_in_a_cohort_say_nothing():
    traces = [_request(n, 5) for n in range(30)] + [_request(30, 900, db_host="db-9")]
    assert [t for t in _traits(traces) if t.cohort == "slowest"] == []


def _requests(most: int) -> st.SearchStrategy:
    """(database ms, database host, failed) of up to ``most`` requests."""
    request = st.tuples(
        st.integers(1, 400), st.sampled_from(["db-1", "db-2", "db-3"]), st.booleans()
    )
    return st.lists(request, min_size=1, max_size=most)


def _analyzer(traces) -> Analyzer:
    analyzer = Analyzer(AnalysisOptions())
    for trace in traces:
        analyzer.add(trace)
    return analyzer


@settings(max_examples=25, deadline=None)
@given(_requests(60), st.data())
def test_merged_halves_find_what_one_analyzer_finds(requests, data):
    _check_merged_halves(requests, data)


def _check_merged_halves(requests, data):
    traces = [
        _request(n, ms, db_host=host, failed=failed)
        for n, (ms, host, failed) in enumerate(requests)
    ]
    cut = data.draw(st.integers(0, len(traces)))
    whole = _analyzer(traces).report().traits
    first = _analyzer(traces[:cut])
    first.merge(pickle.loads(pickle.dumps(_analyzer(traces[cut:]))))
    assert first.report().traits == whole


@settings(max_examples=25, deadline=None)
@given(_requests(80), st.data())
def test_past_the_exact_limit_merged_halves_sample_the_same_requests(requests, data):
    """Past ``EXACT_LIMIT`` (made 16 here) only 1 in 8 requests (by a checksum of the trace
    id) and the failed ones are compared: the same ones in one analyzer and in merged halves."""
    original = traits.EXACT_LIMIT
    traits.EXACT_LIMIT = 16
    try:
        _check_merged_halves(requests, data)
    finally:
        traits.EXACT_LIMIT = original


def test_a_busy_endpoint_compares_one_request_in_eight(monkeypatch):
    monkeypatch.setattr(traits, "EXACT_LIMIT", 100)
    # 800 requests; the slow ones (every 16th: 50) went to db-3.
    batch = [
        _request(n, 900 if n % 16 == 7 else 5 + n % 11, db_host="db-3" if n % 16 == 7 else "db-1")
        for n in range(800)
    ]
    sampled = [t for t in batch if crc32(t.trace_id.encode()) % 8 == 0]
    assert 60 < len(sampled) < 140
    (finding,) = [t for t in _traits(batch) if t.cohort == "slowest"]
    assert (finding.key, finding.value) == ("host.name", "db-3")
    assert (finding.cohort_one_in, finding.rest_one_in) == (8, 8)
    assert finding.cohort_traces + finding.rest_traces == len(sampled)
    assert finding.cohort_traces == sum(t.root.duration_ns > 800_000_000 for t in sampled)
    assert finding.cohort_share == 1.0 and finding.rest_share == 0.0
