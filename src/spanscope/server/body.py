"""Reading a request body safely: a size limit that holds before and after decompression.

Receivers face hostile input: a huge body, or a small gzip body that inflates to gigabytes.
``read_body`` stops at ``limit`` bytes either way and raises ``BodyTooLarge``; a body that does
not decompress raises ``BadEncoding``.
"""

from __future__ import annotations

import zlib

from starlette.requests import Request


class BodyTooLarge(Exception):
    pass


class BadEncoding(Exception):
    pass


async def read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdecimal() and int(declared) > limit:
        raise BodyTooLarge(f"body of {int(declared):,} bytes is over the {limit:,}-byte limit")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge(f"body is over the {limit:,}-byte limit")
        chunks.append(chunk)
    body = b"".join(chunks)
    encoding = request.headers.get("content-encoding", "identity").strip().lower()
    if encoding in ("", "identity"):
        return body
    if encoding in ("gzip", "deflate"):
        return _inflate(body, limit, gzip=encoding == "gzip")
    raise BadEncoding(f"unsupported Content-Encoding {encoding!r}: use gzip or none")


def _inflate(body: bytes, limit: int, *, gzip: bool) -> bytes:
    inflater = zlib.decompressobj(wbits=31 if gzip else 15)
    try:
        data = inflater.decompress(body, limit + 1)
    except zlib.error as exc:
        raise BadEncoding(
            f"body is not valid {'gzip' if gzip else 'deflate'} data: {exc}"
        ) from None
    if len(data) > limit or inflater.unconsumed_tail:
        raise BodyTooLarge(f"decompressed body is over the {limit:,}-byte limit")
    if not inflater.eof:
        raise BadEncoding("compressed body is truncated")
    return data
