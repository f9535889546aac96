"""Self-contained HTML pages: a template plus its CSS, JS and JSON data inlined once.

Contract: ``render_page(template, parts)`` fills ``/*{{NAME}}*/`` markers in a template from
``spanscope/viz/assets`` in ONE pass, so data can never be mistaken for a marker; ``fill`` does
it for any template text.
``json_block(value)`` encodes a value for a ``<script type="application/json">`` block: ``<`` is
escaped as ``\\u003c`` so no data can close the script element, and the result is still JSON.
Pages load no network resources and work from ``file://``.
"""

from __future__ import annotations

import html
import re
from functools import cache
from importlib import resources
from typing import Any

import msgspec

_MARKER = re.compile(r"/\*\{\{([A-Z_]+)\}\}\*/")
_encoder = msgspec.json.Encoder()


@cache
def asset(name: str) -> str:
    """The text of one file shipped in ``spanscope/viz/assets``."""
    return resources.files("spanscope.viz").joinpath("assets").joinpath(name).read_text("utf-8")


def json_block(value: Any) -> str:
    raw = _encoder.encode(value)
    return raw.replace(b"<", b"\\u003c").decode("utf-8")


def fill(template: str, parts: dict[str, str]) -> str:
    """The text ``template`` with its ``/*{{NAME}}*/`` markers replaced by ``parts[NAME]``, in
    ONE pass, so data can never be taken for a marker (the server's pages fill theirs too)."""
    return _MARKER.sub(lambda match: parts[match.group(1)], template)


def render_page(template: str, parts: dict[str, str]) -> str:
    """The asset ``template`` filled with ``parts`` (``fill``)."""
    return fill(asset(template), parts)


def text(value: str) -> str:
    """Escape text for HTML content and attribute values."""
    return html.escape(value, quote=True)
