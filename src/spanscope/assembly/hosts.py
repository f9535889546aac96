"""Which host (which clock) a span was recorded on, and whether two spans share one.

``host_of(span)`` gathers what a span says about its host at three levels:

1. ``name``: the resource's host: OpenTelemetry ``host.id``/``host.name``/``host.ip``, Jaeger
   process tags ``hostname``/``ip`` (string, 32-bit integer or raw bytes, as Jaeger clients send
   them), the first one present;
2. ``address``: the span's own local address (``network.local.address``/``net.host.ip``), which
   is where Zipkin readers put ``localEndpoint.ipv4``/``ipv6``;
3. ``service``: the service name, the last resort.

``compare(a, b)`` decides at the first level both spans know, so a server span that carries a
local address and its in-process child that does not are still compared by service (one process,
one clock) instead of being taken for two hosts. Two spans that know nothing never match (as in
Jaeger, an unknown host is compared against its parent every time).
"""

from __future__ import annotations

from typing import NamedTuple

from spanscope.model import AttributeValue, Span

RESOURCE_HOST_ATTRIBUTES = ("host.id", "host.name", "host.ip", "hostname", "ip")
SPAN_ADDRESS_ATTRIBUTES = ("network.local.address", "net.host.ip")


class Host(NamedTuple):
    name: str
    address: str
    service: str

    def label(self) -> str:
        """The most precise thing known, for messages: ``host web-1``, ``service cart``..."""
        if self.name:
            return "host " + self.name
        if self.address:
            return "host " + self.address
        if self.service:
            return "service " + self.service
        return "unknown host"


def _host_text(value: AttributeValue) -> str:
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bool):
        return ""
    if isinstance(value, int):
        import ipaddress  # here: only addresses given as numbers or bytes need it

        return str(ipaddress.IPv4Address(value & 0xFFFFFFFF))
    if isinstance(value, bytes) and len(value) in (4, 16):
        import ipaddress

        address = ipaddress.ip_address(value)
        mapped = getattr(address, "ipv4_mapped", None)
        return str(mapped or address)
    if isinstance(value, list) and value:
        return _host_text(value[0])
    return ""


def _first(attributes: dict[str, AttributeValue], names: tuple[str, ...]) -> str:
    if attributes:
        for name in names:
            value = attributes.get(name)
            if value is not None:
                text = _host_text(value)
                if text:
                    return text
    return ""


def host_of(span: Span) -> Host:
    return Host(
        _first(span.resource_attributes, RESOURCE_HOST_ATTRIBUTES),
        _first(span.attributes, SPAN_ADDRESS_ATTRIBUTES),
        span.service_name,
    )


def compare(a: Host, b: Host) -> tuple[bool, str, str]:
    """Whether ``a`` and ``b`` share a clock, and how each is named in messages."""
    for prefix, left, right in (
        ("host ", a.name, b.name),
        ("host ", a.address, b.address),
        ("service ", a.service, b.service),
    ):
        if left and right:
            return left == right, prefix + left, prefix + right
    return False, a.label(), b.label()


def same_host(a: Span, b: Span) -> bool:
    return compare(host_of(a), host_of(b))[0]
