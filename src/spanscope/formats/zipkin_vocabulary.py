"""The vocabulary the Zipkin mapping shares between reading and writing: kind and status
names, the span attributes endpoints map to, the tag names that belong to the resource, and the
OpenTelemetry Collector's encodings of what Zipkin has no field for (event attributes inside an
annotation value, links inside ``otlp.link.N`` tags, dropped counts in ``otel.dropped_*``).
"""

from __future__ import annotations

from typing import Any

import msgspec

from spanscope.model import (
    Event,
    Link,
    SpanKind,
    StatusCode,
    normalize_span_id,
    normalize_trace_id,
)
from spanscope.model.attributes import jsonable

KINDS = {
    "CLIENT": SpanKind.CLIENT,
    "SERVER": SpanKind.SERVER,
    "PRODUCER": SpanKind.PRODUCER,
    "CONSUMER": SpanKind.CONSUMER,
}
KIND_NAMES = {kind: name for name, kind in KINDS.items()}
TAG_KINDS = {name.lower(): kind for name, kind in KINDS.items()} | {"internal": SpanKind.INTERNAL}
STATUS_CODES = {"UNSET": StatusCode.UNSET, "OK": StatusCode.OK, "ERROR": StatusCode.ERROR}
STATUS_NAMES = {StatusCode.OK: "OK", StatusCode.ERROR: "ERROR"}

LOCAL_ADDRESS, LOCAL_PORT = "network.local.address", "network.local.port"
PEER_SERVICE, PEER_ADDRESS, PEER_PORT = (
    "service.peer.name",
    "network.peer.address",
    "network.peer.port",
)
LOCAL_ADDRESS_KEYS = (LOCAL_ADDRESS, "net.host.ip")
LOCAL_PORT_KEYS = (LOCAL_PORT, "net.host.port")
PEER_SERVICE_KEYS = (PEER_SERVICE, "peer.service")
PEER_ADDRESS_KEYS = (PEER_ADDRESS, "net.peer.ip")
PEER_PORT_KEYS = (PEER_PORT, "net.peer.port")
DEBUG = "zipkin.debug"
ORIGINAL_TIME = "zipkin.timestamp_us"

# Resource attribute names of the semantic conventions (v1.6.1, the collector's list), plus the
# OpenCensus ones the collector adds: tags with these names belong to the resource.
RESOURCE_NAMES = (
    "cloud.provider cloud.account.id cloud.region cloud.availability_zone cloud.platform "
    "aws.ecs.container.arn aws.ecs.cluster.arn aws.ecs.launchtype aws.ecs.task.arn "
    "aws.ecs.task.family aws.ecs.task.revision aws.eks.cluster.arn aws.log.group.names "
    "aws.log.group.arns aws.log.stream.names aws.log.stream.arns container.name container.id "
    "container.runtime container.image.name container.image.tag deployment.environment "
    "device.id device.model.identifier device.model.name faas.name faas.id faas.version "
    "faas.instance faas.max_memory host.id host.name host.type host.arch host.image.name "
    "host.image.id host.image.version k8s.cluster.name k8s.node.name k8s.node.uid "
    "k8s.namespace.name k8s.pod.uid k8s.pod.name k8s.container.name "
    "k8s.container.restart_count k8s.replicaset.uid k8s.replicaset.name k8s.deployment.uid "
    "k8s.deployment.name k8s.statefulset.uid k8s.statefulset.name k8s.daemonset.uid "
    "k8s.daemonset.name k8s.job.uid k8s.job.name k8s.cronjob.uid k8s.cronjob.name os.type "
    "os.description os.name os.version process.pid process.executable.name "
    "process.executable.path process.command process.command_line process.command_args "
    "process.owner process.runtime.name process.runtime.version process.runtime.description "
    "service.name service.namespace service.instance.id service.version telemetry.sdk.name "
    "telemetry.sdk.language telemetry.sdk.version telemetry.auto.version webengine.name "
    "webengine.version webengine.description opencensus.starttime opencensus.exporterversion "
    "opencensus.resourcetype"
)
RESOURCE_KEYS = frozenset(RESOURCE_NAMES.split())


def decode_link(value: Any) -> Link | None:
    """The link a collector wrote as ``trace|span|tracestate|{json}|dropped``, else None."""
    if type(value) is not str:
        return None
    parts = value.split("|")
    if len(parts) < 5 or not parts[-1].isdecimal():
        return None
    try:
        attributes = msgspec.json.decode("|".join(parts[3:-1]))
        link = Link(
            trace_id=normalize_trace_id(parts[0]),
            span_id=normalize_span_id(parts[1]),
            trace_state=parts[2],
            attributes=attributes,
            dropped_attributes_count=int(parts[-1]),
        )
    except (ValueError, msgspec.DecodeError):
        return None
    return link if isinstance(attributes, dict) else None


def decode_annotation(value: str) -> tuple[str, dict[str, Any], int]:
    """Name, attributes and dropped count of an annotation value. Two encodings of an event with
    attributes are understood: the collector's ``name|{json}|N`` and the OpenTelemetry SDK
    exporters' ``{"name": {json}}`` (the Zipkin exporter specification). Anything else is a
    plain name."""
    if value[:2] == '{"' and value[-2:] == "}}":
        try:
            decoded = msgspec.json.decode(value)
        except msgspec.DecodeError:
            return value, {}, 0
        if isinstance(decoded, dict) and len(decoded) == 1:
            ((name, attributes),) = decoded.items()
            if isinstance(attributes, dict):
                return name, attributes, 0
        return value, {}, 0
    if "|" not in value:
        return value, {}, 0
    parts = value.split("|")
    if len(parts) < 3 or not parts[-1].isdecimal() or not parts[1].startswith("{"):
        return value, {}, 0
    try:
        attributes = msgspec.json.decode("|".join(parts[1:-1]))
    except msgspec.DecodeError:
        return value, {}, 0
    if not isinstance(attributes, dict):
        return value, {}, 0
    return parts[0], attributes, int(parts[-1])


def encode_annotation(event: Event) -> str:
    plain = not event.attributes and not event.dropped_attributes_count
    # a bare name that would read as an encoding is spelled out, with no attributes
    if plain and decode_annotation(event.name) == (event.name, {}, 0):
        return event.name
    encoded = msgspec.json.encode(jsonable(event.attributes)).decode("utf-8")
    return f"{event.name}|{encoded}|{event.dropped_attributes_count}"


def encode_link(link: Link) -> str:
    encoded = msgspec.json.encode(jsonable(link.attributes)).decode("utf-8")
    return (
        f"{link.trace_id}|{link.span_id}|{link.trace_state}|{encoded}|"
        f"{link.dropped_attributes_count}"
    )


# The SDK exporters' tags for the span's dropped counts (the collector ignores them).
DROPPED_ATTRIBUTES = "otel.dropped_attributes_count"
DROPPED_EVENTS = "otel.dropped_events_count"
DROPPED_LINKS = "otel.dropped_links_count"
DROPPED_KEYS = frozenset((DROPPED_ATTRIBUTES, DROPPED_EVENTS, DROPPED_LINKS))
