"""Context propagation: strict codecs for every common header format, an echo probe to put in
a chain of services, and a tester that proves a context survives every hop.

Modules: ``context`` (the neutral ``Context`` and the ``Parsed`` result type), one codec module
per format (``w3c``, ``baggage``, ``b3``, ``jaeger``, ``xray``), ``codecs`` (formats by name,
extract/inject/convert across them), ``otel`` (OpenTelemetry ``TextMapPropagator``s),
``echo`` (the probe service), ``tester`` (the hop-by-hop checks), ``results`` (what the
tester found, as plain data) and ``backend`` (checking the chain in a Jaeger-API trace store).

Example::

    >>> from spanscope.propagation import codecs
    >>> parsed = codecs.convert([("b3", "80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1")],
    ...                         ["w3c"])
    >>> parsed.value
    [('traceparent', '00-80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-01')]
"""

from __future__ import annotations

from spanscope.propagation.codecs import (
    CODECS,
    FORMAT_NAMES,
    convert,
    extract_all,
    inject,
    parse_header_text,
    resolve_formats,
)
from spanscope.propagation.context import BaggageEntry, Context, Parsed

__all__ = [
    "CODECS",
    "FORMAT_NAMES",
    "BaggageEntry",
    "Context",
    "Parsed",
    "convert",
    "extract_all",
    "inject",
    "parse_header_text",
    "resolve_formats",
]
