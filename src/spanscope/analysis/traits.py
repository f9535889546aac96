"""What the slowest and the failed requests of an endpoint have in common.

The profile says where slow requests spend their time; this says *which* requests are slow:
a host, a version, a region, a route, a client that the slowest 5% (or the failed requests)
carry much more often than the others. It is the question an SRE asks next ("is it one
pod?", "only since the new version?"), answered the way Honeycomb's BubbleUp does: compare how
often each attribute value occurs in the cohort and in the rest of the endpoint's requests.

A request's *traits* are
- its root span's attributes, strings with ids replaced (``message_template``: ``url.path``
  ``/users/812`` is ``/users/<num>``), small integers as they are (status codes), booleans;
  long strings, floats and lists are left out;
- for every service in the trace, where that service ran: the resource attributes of
  ``RESOURCE_KEYS`` (``service.version``, ``host.name``, ``k8s.pod.name``, ``cloud.region``...),
  raw: a bad host or pod of a service deep in the call tree is what this is for.

``TraitCollector.add(endpoint, trace, duration_ns, failed)`` keeps, per endpoint, each request's
duration, whether it failed, and its traits. Past ``EXACT_LIMIT`` requests an endpoint keeps
only a sample: 1 in 8 requests by a checksum of the trace id (the same requests whichever
process reads them, in whatever order) and every failed one; the other
requests then cost a counter and a character test (computing traits is ~5 µs a request, and
``analyze`` has ~20 µs a span in all). ``findings(folding, slow_thresholds, top)`` compares, per
endpoint,
- the slowest requests (duration at least the profile's slowest-5% threshold, so they are the
  requests the profile calls slow) with the rest, among the sampled requests when sampled, and
- the failed requests with the rest (all failed requests against the sampled others), leaving
  out the traits that only restate a failure (status codes, error flags);
and keeps a trait when it is in at least ``MIN_COHORT_TRACES`` requests of the cohort and its
share there is at least ``MIN_SHARE_GAP`` above its share in the rest: the largest gaps first,
``top`` per endpoint and cohort. Which requests are kept depends on the set of requests only,
not on their order, so merged collectors (``merge``) give what one collector given every
request gives.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from itertools import chain
from zlib import crc32

from spanscope.analysis.errors import message_template
from spanscope.analysis.name_folding import NameFolding, fold_table
from spanscope.analysis.results import TraitFinding
from spanscope.model import Attributes, Span, Trace

# Where a service ran: the resource attributes worth comparing (low cardinality, and each a
# thing one can act on: roll back a version, drain a host, fail over a region).
RESOURCE_KEYS = (
    "service.version",
    "service.instance.id",
    "host.name",
    "k8s.node.name",
    "k8s.pod.name",
    "k8s.namespace.name",
    "cloud.region",
    "cloud.availability_zone",
    "deployment.environment",
    "deployment.environment.name",
    "process.runtime.version",
)
# Root attributes that only restate a failure: left out when comparing failed requests.
_FAILURE_KEYS = frozenset(
    {
        "http.response.status_code",
        "http.status_code",
        "rpc.grpc.status_code",
        "error",
        "error.type",
        "otel.status_code",
        "otel.status_description",
        "exception.type",
        "exception.message",
    }
)
MIN_COHORT_TRACES = 3
# Past this many requests an endpoint's shares are estimated from a sample: 1 in 8 requests by
# a checksum of the trace id (the same requests whatever the order or the process they are
# read in; a checksum, because generators' ids can have fixed digits), and every failed one.
EXACT_LIMIT = 2048
SAMPLE_ONE_IN = 8
_SAMPLE_MASK = SAMPLE_ONE_IN - 1
MIN_SHARE_GAP = 0.3
_MAX_TEXT = 100  # longer strings (SQL, stack traces, bodies) are not traits
_SMALL_INT = 1000  # status codes, counts; bigger numbers are mostly ids
_TEMPLATE_CACHE_LIMIT = 1 << 14

Trait = tuple[str, str, object]  # (service, or "" for the root span; key; value)
# A request's traits in parts: the root span's, then those of each resource in the trace.
Traits = tuple[tuple[Trait, ...], ...]
_RESOURCE_CACHE_LIMIT = 4096


class _Requests:
    """One endpoint's requests: ``count`` seen, and (duration, failed, sampled, traits) of those
    kept (module docstring: past ``EXACT_LIMIT``, the sampled and the failed ones)."""

    __slots__ = ("count", "rows")

    def __init__(self) -> None:
        self.count = 0
        self.rows: list[tuple[int, bool, bool, Traits]] = []

    def add(self, other: _Requests) -> None:
        self.count += other.count
        self.rows += other.rows
        self.prune()

    def prune(self) -> None:
        """Past ``EXACT_LIMIT``: only the sampled and the failed requests stay."""
        if self.count > EXACT_LIMIT:
            self.rows = [row for row in self.rows if row[2] or row[1]]


class TraitCollector:
    def __init__(self) -> None:
        self._endpoints: dict[tuple[str, str], _Requests] = {}
        # id(resource) -> (resource, its traits): the resource is kept so that the id stays its
        self._resources: dict[int, tuple[Attributes, tuple[Trait, ...]]] = {}
        self._templates: dict[str, str] = {}

    def __reduce__(self):  # type: ignore[no-untyped-def]
        # The caches are rebuilt; shared trait parts are pickled once each (pickle's memo).
        return (_restore, (self._endpoints,))

    def add(self, endpoint: tuple[str, str], trace: Trace, duration_ns: int, failed: bool) -> None:
        requests = self._endpoints.get(endpoint)
        if requests is None:
            requests = self._endpoints[endpoint] = _Requests()
        requests.count += 1
        sampled = not crc32(trace.trace_id.encode()) & _SAMPLE_MASK
        if requests.count > EXACT_LIMIT:
            if requests.count == EXACT_LIMIT + 1:
                requests.prune()
            if not (sampled or failed):
                return  # most requests of a busy endpoint cost this test only
        requests.rows.append((duration_ns, failed, sampled, self._traits(trace)))

    def _traits(self, trace: Trace) -> Traits:
        """The request's traits: a tuple of parts, the root span's first, then one per
        distinct resource (each computed once per resource object and shared)."""
        root: list[Trait] = []
        templates = self._templates
        for key, value in trace.roots[0].attributes.items():
            if type(value) is str:  # not a subclass: the exact, fast test
                template = templates.get(value)
                if template is None:
                    if len(value) > _MAX_TEXT:
                        continue
                    if len(templates) >= _TEMPLATE_CACHE_LIMIT:
                        templates.clear()
                    template = templates[value] = message_template(value)
                root.append(("", key, template))
            elif isinstance(value, bool):
                root.append(("", key, value))
            elif isinstance(value, int):
                root.append(("", key, value if -_SMALL_INT < value < _SMALL_INT else "<num>"))
        parts: list[tuple[Trait, ...]] = [tuple(root)]
        resources = self._resources
        last = None
        for span in trace.spans:
            resource = span.resource_attributes
            if resource is last:
                continue
            last = resource
            known = resources.get(id(resource))
            if known is None or known[0] is not resource:
                if len(resources) >= _RESOURCE_CACHE_LIMIT:
                    resources.clear()
                known = resources[id(resource)] = (resource, _resource_traits(span))
            if known[1] and known[1] not in parts:
                parts.append(known[1])
        return tuple(parts)

    def merge(self, other: TraitCollector) -> None:
        """Take over ``other``'s requests (it is used up)."""
        for endpoint, theirs in other._endpoints.items():
            mine = self._endpoints.get(endpoint)
            if mine is None:
                self._endpoints[endpoint] = theirs
            else:
                mine.add(theirs)

    def findings(
        self, folding: NameFolding, slow_thresholds: Mapping[tuple[str, str], int], top: int
    ) -> list[TraitFinding]:
        """Traits that set the slowest and the failed requests apart (module docstring), per
        endpoint in ``slow_thresholds`` order (the profile's: busiest first), names folded by
        ``folding`` as the other tables are."""
        endpoints = fold_table(self._endpoints, folding, _copy_requests, _Requests.add)
        found: list[TraitFinding] = []
        for endpoint, threshold in slow_thresholds.items():
            requests = endpoints.get(endpoint)
            if requests is None:
                continue
            one_in = SAMPLE_ONE_IN if requests.count > EXACT_LIMIT else 1
            # Sampled: failed requests are all kept, so they are compared with the sampled
            # others, and only sampled requests are compared for slowness.
            shapes = Counter(
                (duration >= threshold, failed, traits)
                for duration, failed, sampled, traits in requests.rows
                if sampled or one_in == 1
            )
            found += _compare(endpoint, "slowest", shapes, 0, top, frozenset(), one_in)
            if one_in > 1:
                shapes = Counter(
                    (False, failed, traits)
                    for _, failed, sampled, traits in requests.rows
                    if failed or sampled
                )
            found += _compare(endpoint, "failed", shapes, 1, top, _FAILURE_KEYS, one_in)
        return found


def _copy_requests(requests: _Requests) -> _Requests:
    copy = _Requests()
    copy.count = requests.count
    copy.rows = list(requests.rows)
    return copy


def _resource_traits(span: Span) -> tuple[Trait, ...]:
    """Where ``span``'s service ran, from its resource (``RESOURCE_KEYS``)."""
    resource = span.resource_attributes
    service = span.service_name
    return tuple(
        (service, key, value)
        for key in RESOURCE_KEYS
        if (value := resource.get(key)) is not None and isinstance(value, str | int | bool)
    )


def _restore(endpoints: dict[tuple[str, str], _Requests]) -> TraitCollector:
    collector = TraitCollector()
    collector._endpoints = endpoints
    return collector


def _compare(
    endpoint: tuple[str, str],
    cohort: str,
    shapes: Counter[tuple[bool, bool, Traits]],
    flag: int,
    top: int,
    skipped_keys: frozenset[str],
    one_in: int,
) -> list[TraitFinding]:
    """The traits of one cohort (``flag``: which part of the shape says a request is in it)
    against the rest of the endpoint's requests."""
    in_cohort: Counter[Trait] = Counter()
    in_rest: Counter[Trait] = Counter()
    cohort_size = rest_size = 0
    for shape, count in shapes.items():
        traits = set(chain.from_iterable(shape[2]))  # a resource repeated in parts counts once
        if shape[flag]:
            cohort_size += count
            counter = in_cohort
        else:
            rest_size += count
            counter = in_rest
        for trait in traits:
            counter[trait] += count
    if cohort_size < MIN_COHORT_TRACES or rest_size < MIN_COHORT_TRACES:
        return []
    candidates = []
    for trait, count in in_cohort.items():
        if count < MIN_COHORT_TRACES or (trait[0] == "" and trait[1] in skipped_keys):
            continue
        share, rest_share = count / cohort_size, in_rest[trait] / rest_size
        if share - rest_share >= MIN_SHARE_GAP:
            candidates.append((share - rest_share, trait, count, share, rest_share))
    candidates.sort(key=lambda c: (-c[0], c[1][0], c[1][1], _value_text(c[1][2])))
    return [
        TraitFinding(
            endpoint[0],
            endpoint[1],
            cohort,
            trait[0],
            trait[1],
            _value_text(trait[2]),
            cohort_size,
            count,
            share,
            rest_size,
            in_rest[trait],
            rest_share,
            one_in if cohort == "slowest" else 1,
            one_in,
        )
        for _, trait, count, share, rest_share in candidates[:top]
    ]


def _value_text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"  # as JSON and OTLP write them
    return str(value)


def trait_text(finding: TraitFinding) -> str:
    """``key=value`` for the root span's traits, ``service key=value`` for where one ran."""
    text = f"{finding.key}={finding.value}"
    return f"{finding.service} {text}" if finding.service else text
