"""Decode a JSON body, refusing what is hostile to parsers or to the database.

Refused with a clear message, before any handler runs:

- nesting deeper than :data:`MAX_DEPTH` (decoders recurse per level: 1,000 brackets in
  2 KB used to end in a ``RecursionError`` and a 500);
- an integer outside 64 bits (no column of ours holds one; PostgreSQL would refuse it
  after the handler's work);
- a NUL character (``\\u0000``: PostgreSQL text cannot hold one, C consumers truncate);
- a key repeated in one object (a decoder keeps the last, other readers the first: two
  readers of one body must never see different values).

No legitimate request comes near these limits. The check walks the decoded value once
(the decode is the one the framework would do anyway); duplicate keys are found by
counting: every ``:`` byte of valid JSON separates a key or sits inside a string, so when
the keys and the colons inside strings add up to the body's colons, no key was dropped.
Only when they don't (a duplicate, or an escaped ``\\u003a``) is the body parsed again
with a key hook to name the culprit.
"""

from __future__ import annotations

import json
import re
from typing import Any

import msgspec

__all__ = ("MAX_DEPTH", "BodyRefusedError", "decode_json_body", "has_nul")

MAX_DEPTH = 32
_INT_MIN, _INT_MAX = -(2**63), 2**63 - 1
_decoder = msgspec.json.Decoder()


class BodyRefusedError(ValueError):
    """The body is valid JSON (or close enough) that we refuse to process."""


def decode_json_body(body: bytes) -> Any:
    """The decoded body. Raises :class:`BodyRefusedError` for the cases above and
    ``msgspec.DecodeError`` for malformed JSON."""
    try:
        value = _decoder.decode(body)
    except RecursionError:
        raise BodyRefusedError(f"JSON nested deeper than {MAX_DEPTH} levels") from None
    if _walk(value) != body.count(b":"):
        repeated = _duplicate_key(body)
        if repeated is not None:
            raise BodyRefusedError(f"duplicate key {json.dumps(repeated)[:80]} in an object")
    return value


def _walk(value: Any) -> int:
    """Checks depth, integers and NULs; returns keys + colons inside strings."""
    colons = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        node, depth = stack.pop()
        kind = type(node)
        if kind is dict:
            if depth >= MAX_DEPTH:
                raise BodyRefusedError(f"JSON nested deeper than {MAX_DEPTH} levels")
            colons += len(node)
            for key in node:
                colons += _string(key)
            children = node.values()
        elif kind is list:
            if depth >= MAX_DEPTH:
                raise BodyRefusedError(f"JSON nested deeper than {MAX_DEPTH} levels")
            children = node
        else:
            children = (node,)
            depth -= 1  # a scalar at the top: no container around it
        for child in children:
            kind = type(child)
            if kind is str:
                colons += _string(child)
            elif kind is int:
                if not _INT_MIN <= child <= _INT_MAX:
                    raise BodyRefusedError("an integer outside 64 bits")
            elif kind is dict or kind is list:
                stack.append((child, depth + 1))
    return colons


def _string(text: str) -> int:
    if "\x00" in text:
        raise BodyRefusedError("NUL characters (\\u0000) are not allowed")
    return text.count(":")


class _RepeatedKeyError(Exception):
    pass


def _duplicate_key(body: bytes) -> str | None:
    """The first key repeated inside one object, parsing again with a key hook."""

    def unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        found = dict(pairs)
        if len(found) != len(pairs):
            seen: set[str] = set()
            for key, _ in pairs:
                if key in seen:
                    raise _RepeatedKeyError(key)
                seen.add(key)
        return found

    try:
        json.loads(body, object_pairs_hook=unique)
    except _RepeatedKeyError as repeated:
        return str(repeated)
    except ValueError:  # msgspec accepted what json does not: nothing to name
        return None
    return None


_NUL_BYTES = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")
_NUL_TEXT = re.compile(r"(?<!\\)(?:\\\\)*\\u0000")


def has_nul(raw: str | bytes) -> bool:
    """Whether a JSON text holds a NUL, escaped (``\\u0000``, not ``\\\\u0000``) or raw:
    for typed decodes (socket frames) that do not walk the value."""
    if isinstance(raw, bytes):
        return b"\x00" in raw or (b"\\u0000" in raw and _NUL_BYTES.search(raw) is not None)
    return "\x00" in raw or ("\\u0000" in raw and _NUL_TEXT.search(raw) is not None)
