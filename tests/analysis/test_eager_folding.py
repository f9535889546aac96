"""Names with ids in them are counted under their template as soon as it folds.

The analyzer and the profile do not wait for the end to fold ``GET /users/12345``: once a
template has enough names (``NameTemplates``), later names are counted under it, so a service
with an id in every request name costs a few rows, not one per request. These tests hold that
to what folding everything at the end gives (the reference: the same collectors told never to
fold early, then folded by the same rule), on shop traces whose names carry ids from pools of
every size around the threshold, whole and analysed in parts.
"""

from __future__ import annotations

from functools import cache
from itertools import pairwise

import msgspec
from hypothesis import given, settings
from hypothesis import strategies as st

from spanscope.analysis.analyze import Analyzer
from spanscope.analysis.name_folding import NameFolding, NameTemplates, name_template
from spanscope.analysis.profile import ProfileCollector, folded_stacks
from spanscope.analysis.results import AnalysisOptions
from spanscope.assembly import assemble
from spanscope.model import Span, Trace
from spanscope.synthetic import generate_spans

NEVER = 10**9  # a threshold no data set reaches: nothing folds while traces come


@cache
def _shop_spans() -> tuple[Span, ...]:
    return tuple(generate_spans(240, seed=11))


def _with_ids(pools: dict[str, int], seed: int) -> list[Trace]:
    """The shop's traces with an id from a pool of ``pools[name]`` ids put in each span of
    that name (a pool of 0 leaves the name alone); ids repeat, so names recur."""
    spans = []
    for index, item in enumerate(_shop_spans()):
        pool = pools.get(item.name, 0)
        if pool:
            number = (index * 7919 + seed) % pool
            item = msgspec.structs.replace(item, name=f"{item.name} {number}")
        spans.append(item)
    return assemble(spans, adjust_skew=False)


_NAMES = (
    "GET /api/products/{id}",  # a root: endpoints and profile endpoints
    "SELECT shop.stock",  # the N+1 query, many per trace
    "shop.payment/Charge",  # where failures start: error origins
    "orders process",  # a consumer, off the critical path
    "GET /api/cart",
)


def _report(analyzer: Analyzer) -> bytes:
    report = analyzer.report()
    stacks = folded_stacks(analyzer.profile()), folded_stacks(analyzer.profile(), slow=True)
    return msgspec.json.encode([report, stacks])


def _analyzer(options: AnalysisOptions, traces: list[Trace], early: bool) -> Analyzer:
    analyzer = Analyzer(options)
    if not early:
        analyzer.profiles.names.min_names = NEVER
    for trace in traces:
        analyzer.add(trace)
    analyzer.profiles.names.min_names = options.high_cardinality_min_names
    return analyzer


@settings(max_examples=30, deadline=None)
@given(
    st.lists(st.sampled_from([0, 1, 3, 5, 8, 40, 1000]), min_size=len(_NAMES), max_size=5),
    st.integers(0, 10_000),
    st.integers(2, 9),
    st.lists(st.integers(0, 240), max_size=2),
)
def test_folding_as_names_come_is_folding_at_the_end(pools, seed, min_names, cuts) -> None:
    traces = _with_ids(dict(zip(_NAMES, pools, strict=False)), seed)
    options = AnalysisOptions(top=4, high_cardinality_min_names=min_names, n_plus_one_min_calls=3)
    reference = _report(_analyzer(options, traces, early=False))
    assert _report(_analyzer(options, traces, early=True)) == reference
    # In parts (other processes), each part deciding early on its own names, then merged.
    bounds = [0, *sorted(cuts), len(traces)]
    parts = [_analyzer(options, traces[a:b], early=True) for a, b in pairwise(bounds)]
    for part in parts[1:]:
        parts[0].merge(part)
    assert _report(parts[0]) == reference


def test_a_name_per_request_costs_a_few_rows() -> None:
    """1,000 requests, each its own name: the profile keeps the route's stacks once, the
    analyzer one endpoint row, whatever came before the template folded."""
    traces = _with_ids({"GET /api/products/{id}": 10**6, "SELECT shop.stock": 10**6}, 3)
    traces = traces * 5  # 1,200 traces
    analyzer = Analyzer()
    for trace in traces:
        analyzer.add(trace)
    routes = {(s, n) for s, n in analyzer.endpoints}
    assert len(routes) < 40  # the shop's endpoints, the first 19 names of the route
    frames = analyzer.profiles.stacks.frames
    assert len(frames) < 200
    report = analyzer.report()
    assert "GET /api/products/{id} <num>" in {e.operation for e in report.endpoints}
    (finding,) = [
        f
        for f in report.anti_patterns
        if f.kind == "high_cardinality_name" and f.operation.startswith("GET /api/products")
    ]
    assert finding.occurrences == len({t.root.name for t in traces if "products" in t.root.name})


def test_collector_profile_equals_the_profile_folded_at_the_end() -> None:
    traces = _with_ids({"GET /api/products/{id}": 50, "SELECT shop.stock": 30}, 5)
    early, late = ProfileCollector(min_names=6), ProfileCollector(min_names=6)
    late.names.min_names = NEVER
    for trace in traces:
        early.add(trace)
        late.add(trace)
    late.names.min_names = 6
    assert len(early.stacks.frames) < len(late.stacks.frames)
    assert early.folding().templates == late.folding().templates
    assert early.profile() == late.profile()
    assert early.error_stacks(traces) == late.error_stacks(traces)


_names = st.lists(
    st.tuples(
        st.sampled_from(["a", "b"]),
        st.one_of(
            st.builds("GET /x/{}".format, st.integers(0, 30)),
            st.builds("op {} at {:x}".format, st.integers(0, 3), st.integers(10**6, 10**6 + 40)),
            st.sampled_from(["plain", "v2 call", "GET /x/<num>", "op <num> at <hex>"]),
        ),
    ),
    max_size=120,
)


@settings(max_examples=200, deadline=None)
@given(_names, st.integers(1, 8), st.randoms())
def test_templates_decided_as_names_come_are_those_of_the_whole_set(names, min_names, random):
    whole = NameFolding(names, min_names)
    counted = NameTemplates(min_names)
    for service, name in names:
        now = counted.add(service, name)
        # Early decisions are final ones: what a name is counted under folds to its fold.
        assert whole.fold(service, now) == whole.fold(service, name)
        assert counted.fold(service, name) == now
    assert counted.folding().templates == whole.templates
    # Any order, in any parts, merged: the same templates.
    shuffled = [*names]
    random.shuffle(shuffled)
    cut = random.randint(0, len(shuffled))
    first, second = NameTemplates(min_names), NameTemplates(min_names)
    for service, name in shuffled[:cut]:
        first.add(service, name)
    for service, name in shuffled[cut:]:
        second.add(service, name)
    first.merge(second)
    assert first.folding().templates == whole.templates
    assert first.folds <= whole.templates


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=60) | st.from_regex(r"[a-z /]{0,10}[0-9a-f]{0,40}[ -]?[0-9]{0,6}"))
def test_cached_template_is_name_template(name) -> None:
    cache = NameTemplates()
    assert cache.template(name) == name_template(name)
    assert cache.template(name) == name_template(name)  # from the cache now
