"""The kernel's JSON body guard: exactly where each limit falls, and what passes."""

from __future__ import annotations

import json

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from wealist.core.jsonguard import MAX_DEPTH, BodyRefusedError, decode_json_body, has_nul


def refusal(body: bytes) -> str:
    with pytest.raises(BodyRefusedError) as refused:
        decode_json_body(body)
    return str(refused.value)


def test_nesting_up_to_the_limit_passes_one_more_level_is_refused() -> None:
    for open_, close in ((b"[", b"]"), (b'{"k":', b"}")):
        at_limit = open_ * MAX_DEPTH + b"1" + close * MAX_DEPTH
        assert decode_json_body(at_limit) is not None
        over = open_ * (MAX_DEPTH + 1) + b"1" + close * (MAX_DEPTH + 1)
        assert refusal(over) == f"JSON nested deeper than {MAX_DEPTH} levels"
    # far deeper than any decoder's recursion: the same answer, not a RecursionError
    assert "nested deeper" in refusal(b"[" * 100_000 + b"]" * 100_000)


def test_integers_must_fit_64_bits() -> None:
    assert decode_json_body(b"[9223372036854775807, -9223372036854775808]")
    assert refusal(b"[9223372036854775808]") == "an integer outside 64 bits"
    assert refusal(b'{"a": {"b": [-9223372036854775809]}}') == "an integer outside 64 bits"
    assert decode_json_body(b"[1e300, 0.1]") == [1e300, 0.1]  # floats: the decoder bounds them


def test_nul_is_refused_in_values_and_keys_but_an_escaped_backslash_is_text() -> None:
    assert "NUL" in refusal(b'{"a": "x\\u0000y"}')
    assert "NUL" in refusal(b'{"\\u0000": 1}')
    assert "NUL" in refusal(b'"\\u0000"')
    assert decode_json_body(b'{"a": "\\\\u0000"}') == {"a": "\\u0000"}


def test_a_repeated_key_in_one_object_is_refused_across_objects_it_is_fine() -> None:
    assert refusal(b'{"a": 1, "b": "12:00", "a": 2}') == 'duplicate key "a" in an object'
    assert "duplicate" in refusal(b'[{"x": {"a": 1, "a": 1}}]')
    assert "duplicate" in refusal(b'{"a" : 1, "a" : 1}')  # spaces around the colon
    assert decode_json_body(b'[{"a": 1}, {"a": 2}, {"b": {"a": 3}}]')
    # colons inside strings, and an escaped colon, are not keys
    assert decode_json_body(b'{"t": "10:00:00", "u": "http://x:1", "e": "\\u003a"}')


def test_malformed_json_is_the_decoders_error() -> None:
    for body in (b"{", b'{"a": 1,}', b'"caf\xc3\x28"', b'"a\x00b"'):
        with pytest.raises(msgspec.DecodeError):
            decode_json_body(body)


def test_has_nul_reads_socket_frames_as_text_or_bytes() -> None:
    assert has_nul('{"c": "a\\u0000"}') and has_nul(b'{"c": "a\\u0000"}')
    assert has_nul(b"a\x00") and has_nul("a\x00")
    assert not has_nul('{"c": "a\\\\u0000"}') and not has_nul(b'{"c": "plain"}')


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(st.characters(blacklist_characters="\x00")),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.text(st.characters(blacklist_characters="\x00")), inner, max_size=4)
    ),
    max_leaves=20,
)


@given(json_values)
def test_every_ordinary_document_decodes_to_itself(value: object) -> None:
    """Whatever a client may legitimately send (depth within the limit) passes untouched,
    in any spelling of whitespace and escapes."""
    for body in (json.dumps(value), json.dumps(value, indent=1, ensure_ascii=True)):
        assert decode_json_body(body.encode()) == value
