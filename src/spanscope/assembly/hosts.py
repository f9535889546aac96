"""Which host (which clock) a span was recorded on.

``host_key(span)`` returns a display string naming the span's host, e.g. ``"host web-1"``, or
``"service checkout"`` when the span's resource names no host, or ``""`` when nothing is known.
Two spans with the same non-empty key are taken to share one clock; an empty key never matches
anything (as in Jaeger, an unknown host is compared against its parent every time).

Only resource attributes are consulted. Span-level attributes such as ``network.local.address``
are set on some spans of a process and not on others, so using them would split one process into
two "hosts" and shift in-process children that merely outlive their parent.
"""

from __future__ import annotations

import ipaddress

from spanscope.model import AttributeValue, Span

# OpenTelemetry resource conventions first, then Jaeger process tags (``hostname``, ``ip``), then
# the names Zipkin endpoints are commonly mapped to. The first one present wins.
HOST_ATTRIBUTES = (
    "host.id",
    "host.name",
    "host.ip",
    "hostname",
    "ip",
    "net.host.ip",
    "net.host.name",
    "ipv4",
    "ipv6",
)


def _host_text(value: AttributeValue) -> str:
    """A host attribute as text. Jaeger clients send ``ip`` as a string, a 32-bit integer or raw
    bytes; ``host.ip`` is a list. Anything else unusable gives ``""``."""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bool):
        return ""
    if isinstance(value, int):
        return str(ipaddress.IPv4Address(value & 0xFFFFFFFF))
    if isinstance(value, bytes) and len(value) in (4, 16):
        address = ipaddress.ip_address(value)
        mapped = getattr(address, "ipv4_mapped", None)
        return str(mapped or address)
    if isinstance(value, list) and value:
        return _host_text(value[0])
    return ""


def host_key(span: Span) -> str:
    """The host ``span`` was recorded on, as ``"host <name>"``, ``"service <name>"`` or ``""``."""
    resource = span.resource_attributes
    if resource:
        for name in HOST_ATTRIBUTES:
            value = resource.get(name)
            if value is not None:
                text = _host_text(value)
                if text:
                    return "host " + text
    if span.service_name:
        return "service " + span.service_name
    return ""
