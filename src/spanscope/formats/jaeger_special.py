"""Jaeger's special tags: the tags that carry model fields rather than attributes.

``span.kind`` (kind), ``otel.status_code`` and ``error=true`` (status ERROR),
``otel.status_description`` (status message), ``otel.scope.name``/``otel.library.name`` and
their ``version`` (scope), ``w3c.tracestate`` (trace state); see ``jaeger_json``'s docstring.

Contract: ``special_fields(special, attributes)`` takes the special tags of one span (``SPECIAL``
keys, converted values) and ``typed_special_fields(attributes)`` a span's attributes with them
still inside (checked tags, ``jaeger_structs``), and both return the ``Fields`` (kind, status,
status message, scope name, scope version, trace state). A special tag whose value does not fit
(an unknown kind, ``error=false``) goes (back) into ``attributes``.
"""

from __future__ import annotations

from typing import Any

from spanscope.model import Attributes, SpanKind, StatusCode

KINDS = {
    "client": SpanKind.CLIENT,
    "server": SpanKind.SERVER,
    "producer": SpanKind.PRODUCER,
    "consumer": SpanKind.CONSUMER,
    "internal": SpanKind.INTERNAL,
}
STATUS = {"OK": StatusCode.OK, "ERROR": StatusCode.ERROR, "UNSET": StatusCode.UNSET}
SPECIAL = frozenset(
    {
        "span.kind",
        "otel.status_code",
        "otel.status_description",
        "error",
        "otel.scope.name",
        "otel.scope.version",
        "otel.library.name",
        "otel.library.version",
        "w3c.tracestate",
    }
)

Fields = tuple[SpanKind, StatusCode, str, str, str, str]
# Enum members as module constants: ``StatusCode.X`` is a slow attribute lookup per span.
_UNSPECIFIED, _UNSET, _ERROR_STATUS = SpanKind.UNSPECIFIED, StatusCode.UNSET, StatusCode.ERROR
NO_FIELDS: Fields = (_UNSPECIFIED, _UNSET, "", "", "", "")


# Special tags besides the three that nearly every OTel-exported span has.
_RARE_SPECIAL = SPECIAL - {"span.kind", "otel.scope.name", "otel.scope.version"}


def typed_special_fields(attributes: Attributes) -> Fields:
    """``special_fields`` for checked tags already in ``attributes``: the special ones are
    moved out; the usual ones (kind, scope name and version, strings) without a dict of them."""
    kind = attributes.pop("span.kind", None)
    scope_name = attributes.pop("otel.scope.name", None)
    scope_version = attributes.pop("otel.scope.version", None)
    if _RARE_SPECIAL.isdisjoint(attributes):
        found = KINDS.get(kind) if type(kind) is str else None  # type: ignore[arg-type]
        if (
            (kind is None or found is not None)
            and (scope_name is None or type(scope_name) is str)
            and (scope_version is None or type(scope_version) is str)
        ):
            return (
                _UNSPECIFIED if found is None else found,
                _UNSET,
                "",
                scope_name or "",
                scope_version or "",
                "",
            )
    special = {key: attributes.pop(key) for key in _RARE_SPECIAL.intersection(attributes)}
    for key, value in (
        ("span.kind", kind),
        ("otel.scope.name", scope_name),
        ("otel.scope.version", scope_version),
    ):
        if value is not None:  # checked tags are never null
            special[key] = value
    return special_fields(special, attributes)


def special_fields(special: dict[str, Any], attributes: Attributes) -> Fields:
    """(kind, status, message, scope name, scope version, trace state) from the tags that
    carry them; a value that does not fit goes back into ``attributes``."""
    kind = _UNSPECIFIED
    value = special.pop("span.kind", None)
    if value is not None:
        found = KINDS.get(value.lower()) if type(value) is str else None
        if found is None:
            attributes["span.kind"] = value
        else:
            kind = found
        if not special:
            return kind, _UNSET, "", "", "", ""  # the common case: only span.kind
    if len(special) == 2:
        # The other common case (OTel-exported data): span.kind plus the scope's name and
        # version, both strings; the general path below gives the same result.
        scope_name = special.get("otel.scope.name")
        scope_version = special.get("otel.scope.version")
        if type(scope_name) is str and type(scope_version) is str:
            return kind, _UNSET, "", scope_name, scope_version, ""

    status = _UNSET
    if "otel.status_code" in special or "error" in special:
        status = _status(special, attributes)
    message = _text(special, "otel.status_description", attributes)
    trace_state = _text(special, "w3c.tracestate", attributes)
    scope_name = _scope(special, "otel.scope.name", "otel.library.name", attributes)
    scope_version = _scope(special, "otel.scope.version", "otel.library.version", attributes)
    return kind, status, message, scope_name, scope_version, trace_state


def _status(special: dict[str, Any], attributes: Attributes) -> StatusCode:
    status = _UNSET
    has_code = False
    value = special.get("otel.status_code")
    if value is not None:
        code = STATUS.get(value.upper()) if type(value) is str else None
        if code is None:
            attributes["otel.status_code"] = value
        else:
            status, has_code = code, True
    value = special.get("error")
    if value is not None:
        is_true = value is True or (type(value) is str and value.lower() == "true")
        if is_true and (not has_code or status == _ERROR_STATUS):
            status = _ERROR_STATUS
        else:
            attributes["error"] = value
    return status


def _text(special: dict[str, Any], key: str, attributes: Attributes) -> str:
    value = special.get(key)
    if value is None or type(value) is str:
        return value or ""
    attributes[key] = value
    return ""


def _scope(
    special: dict[str, Any], scope_key: str, library_key: str, attributes: Attributes
) -> str:
    """The scope field from ``otel.scope.*``, else the older ``otel.library.*``; a second,
    different value stays an attribute."""
    in_scope, in_library = special.get(scope_key), special.get(library_key)
    if in_scope is None and in_library is None:
        return ""
    chosen = in_scope if type(in_scope) is str else in_library if type(in_library) is str else None
    if in_scope is not None and in_scope != chosen:
        attributes[scope_key] = in_scope
    if in_library is not None and in_library != chosen:
        attributes[library_key] = in_library
    return chosen or ""
