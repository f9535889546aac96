"""Span names with ids in them count as one endpoint or operation, named by their template."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from spanscope.analysis.analyze import analyze
from spanscope.analysis.name_folding import NameFolding, fold_table
from spanscope.analysis.profile import ProfileCollector, build_profile, folded_stacks
from spanscope.analysis.results import AnalysisOptions
from spanscope.model import StatusCode
from tests.analysis.builders import build_all, span


def _users(count: int, first: int = 0, service: str = "api", fail_every: int = 0):
    """``count`` requests GET /users/<id>, each querying SELECT user <id>."""
    spans = []
    for index in range(first, first + count):
        trace = f"{index + 1:x}"
        failed = bool(fail_every) and index % fail_every == 0
        spans += [
            span(f"r{trace}", None, 0, 10 + index % 7, service=service,
                 operation=f"GET /users/{index}", trace=trace),
            span(f"q{trace}", f"r{trace}", 1, 5, service=service,
                 operation=f"SELECT user {index}", trace=trace,
                 status_code=StatusCode.ERROR if failed else StatusCode.UNSET,
                 status_message=f"user {index} locked" if failed else ""),
        ]  # fmt: skip
    return build_all(*spans)


def test_templates_fold_from_the_threshold_on_and_per_service():
    names = [("api", f"GET /users/{n}") for n in range(20)]
    names += [("api", f"GET /orders/{n}") for n in range(19)]
    names += [("web", f"GET /users/{n}") for n in range(5)]
    names += [("api", "oauth2.token"), ("api", "GET /health")]
    folding = NameFolding(names, 20)
    assert folding.templates == {("api", "GET /users/<num>")}
    assert folding.fold("api", "GET /users/7") == "GET /users/<num>"
    assert folding.fold("api", "GET /users/123456789") == "GET /users/<num>"  # not seen: folds
    assert folding.fold("api", "GET /orders/3") == "GET /orders/3"  # 19 names: kept
    assert folding.fold("web", "GET /users/1") == "GET /users/1"  # another service's
    assert folding.fold("api", "oauth2.token") == "oauth2.token"
    assert not NameFolding(names[:19], 20)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.sampled_from("ab"), st.integers(0, 40)), max_size=80), st.randoms())
def test_the_templates_depend_on_the_set_of_names_alone(items, random):
    names = [(service, f"GET /x/{number}") for service, number in items]
    shuffled = [*names, *names[: len(names) // 2]]
    random.shuffle(shuffled)
    assert NameFolding(names, 5).templates == NameFolding(shuffled, 5).templates


def test_fold_table_adds_up_what_folds_together_and_leaves_the_table_alone():
    folding = NameFolding([("s", f"op {n}") for n in range(3)], 3)
    table = {("s", "op 0"): [1], ("s", "other"): [2], ("s", "op 1"): [3], ("s", "op 2"): [4]}
    folded = fold_table(table, folding, lambda v: [*v], lambda into, v: into.extend(v))
    assert folded == {("s", "op <num>"): [1, 3, 4], ("s", "other"): [2]}
    assert table[("s", "op 0")] == [1]


def test_profile_counts_the_requests_of_one_route_as_one_endpoint():
    profile = build_profile(_users(25))
    (endpoint,) = profile.endpoints
    assert (endpoint.service, endpoint.operation) == ("api", "GET /users/<num>")
    assert endpoint.traces == 25 and endpoint.slow_traces == 2
    assert set(endpoint.stacks) == {
        "api:GET /users/<num>",
        "api:GET /users/<num>;api:SELECT user <num>",
    }
    assert sum(endpoint.stacks.values()) == sum(10 + n % 7 for n in range(25)) * 1_000_000
    assert len(build_profile(_users(19)).endpoints) == 19  # under the threshold: as they are


def test_parts_below_the_threshold_fold_once_merged():
    """Two parts of 12 names each fold together, as one collector of all 24 does."""
    first, second = _users(12), _users(12, first=12)
    whole, merged, later = ProfileCollector(), ProfileCollector(), ProfileCollector()
    for trace in [*first, *second]:
        whole.add(trace)
    for trace in first:
        merged.add(trace)
    for trace in second:
        later.add(trace)
    assert len(later.profile().endpoints) == 12
    merged.merge(later)
    assert merged.profile() == whole.profile()
    assert [e.operation for e in merged.profile().endpoints] == ["GET /users/<num>"]


def test_report_folds_endpoints_operations_and_error_origins():
    report = analyze(_users(40, fail_every=4))
    assert [(e.operation, e.latency.count) for e in report.endpoints] == [("GET /users/<num>", 40)]
    operations = {o.operation: o for o in report.operations}
    assert set(operations) == {"GET /users/<num>", "SELECT user <num>"}
    assert operations["SELECT user <num>"].latency.count == 40
    assert operations["SELECT user <num>"].errors == 10
    (origin,) = report.errors.origins
    assert (origin.operation, origin.message_template, origin.traces) == (
        "SELECT user <num>", "user <num> locked", 10,
    )  # fmt: skip
    # The instrumentation is still called out, with every distinct name counted.
    found = {(a.kind, a.operation): a.occurrences for a in report.anti_patterns}
    assert found[("high_cardinality_name", "GET /users/<num>")] == 40
    # Concrete traces keep their real names.
    assert report.slowest_traces[0].operation.startswith("GET /users/")
    assert "<num>" not in report.slowest_traces[0].operation
    # The threshold is the detector's: raised past the names there are, nothing folds.
    unfolded = analyze(_users(40), AnalysisOptions(high_cardinality_min_names=41))
    assert len(unfolded.endpoints) == 40
    assert folded_stacks(build_profile(_users(40)))[0][0] == "api:GET /users/<num>"


def test_error_stacks_are_named_as_the_profile_names_its_stacks():
    """Where an aggregated flame graph marks errors: the stacks of the failing spans, folded
    and cut as the profile's own, so each one is a stack of the profile."""
    traces = _users(30, fail_every=3)
    profiles = ProfileCollector()
    for trace in traces:
        profiles.add(trace)
    errors = profiles.error_stacks(traces)
    assert errors == {"api:GET /users/<num>;api:SELECT user <num>"}
    (endpoint,) = profiles.profile().endpoints
    assert errors <= set(endpoint.stacks)
    few = _users(3, fail_every=3)  # under the threshold: real names
    assert ProfileCollector().error_stacks(few) == {"api:GET /users/0;api:SELECT user 0"}


def test_error_stacks_deeper_than_the_profile_keeps_are_cut_alike():
    depth = 200
    spans = [
        span(f"s{level}", f"s{level - 1}" if level else None, level, 2 * depth - level,
             service="app", operation="call",
             status_code=StatusCode.ERROR if level == depth - 1 else StatusCode.UNSET)
        for level in range(depth)
    ]  # fmt: skip
    traces = build_all(*spans)
    profiles = ProfileCollector()
    for trace in traces:
        profiles.add(trace)
    (stack,) = profiles.error_stacks(traces)
    assert stack in profiles.profile().endpoints[0].stacks
    assert stack.endswith(";…;app:call") and stack.count(";") + 1 == 128


def test_error_stacks_are_named_by_the_folding_the_profile_was_given():
    """A caller that names the profile with its own folding gets error stacks named alike."""
    traces = _users(5, fail_every=2)
    profiles = ProfileCollector()
    for trace in traces:
        profiles.add(trace)
    folding = NameFolding(profiles.stacks.frames, 5)
    errors = profiles.error_stacks(traces, folding)
    assert errors == {"api:GET /users/<num>;api:SELECT user <num>"}
    (endpoint,) = profiles.profile(folding).endpoints
    assert errors <= set(endpoint.stacks)


def test_only_the_start_of_a_huge_name_is_scanned_for_a_digit():
    """A name's first 64 KiB decide whether it has a template: a 63 MB name is not scanned
    whole (it took a third of a second), and a template keeps 300 characters anyway."""
    from spanscope.analysis.name_folding import name_template

    assert name_template("GET /orders/" + "a" * 100_000 + "/7") is None
    assert name_template("GET /orders/7/" + "a" * 100_000) == "GET /orders/<num>/" + "a" * 286
    assert name_template("GET /orders/7") == "GET /orders/<num>"
