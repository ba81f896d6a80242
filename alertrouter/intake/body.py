"""Read a JSON request body whole, within the size limit, whatever the transfer encoding.

Werkzeug stops a chunked body silently at ``MAX_CONTENT_LENGTH`` (the rest is dropped, and what was read
may still be valid JSON); here a body one byte over the limit is refused with 413 instead.
"""

from __future__ import annotations

import json
from typing import Any

from flask import request

from alertrouter.errors import ApiError

CHUNK = 64 * 1024


def read_body(limit: int) -> bytes:
    """Return the request body, or raise 413 if it is longer than `limit` bytes (declared or streamed)."""
    if request.content_length is not None and request.content_length > limit:
        raise ApiError(413, f"body larger than {limit} bytes")
    # The app's MAX_CONTENT_LENGTH is limit + 1, so reading one byte past the limit shows the body is too long
    # without Werkzeug truncating it quietly first.
    stream = request.stream
    parts: list[bytes] = []
    size = 0
    while size <= limit:
        chunk = stream.read(min(CHUNK, limit + 1 - size))
        if not chunk:
            return b"".join(parts)
        parts.append(chunk)
        size += len(chunk)
    raise ApiError(413, f"body larger than {limit} bytes")


def decode_json(data: bytes) -> Any:
    """Decode a JSON body, raising 400 with the reason for text that is not JSON or nests too deeply."""
    try:
        return json.loads(data)
    except RecursionError:
        raise ApiError(400, "body is not JSON we accept: nested too deeply") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiError(400, f"body is not JSON: {exc}") from None


def json_body(limit: int) -> Any:
    """Read and decode the request's JSON body within `limit` bytes."""
    return decode_json(read_body(limit))
