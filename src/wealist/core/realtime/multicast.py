"""One publish for a frame that many topics of one scope receive.

A chat message puts an unread dot on the presence socket of each of its other members:
one topic per member (``chat-user:<id>``), the same bytes for all. Published one by one,
that is a PUBLISH per member, and Redis copies each to every subscribed process. Packed
here instead, it is one PUBLISH on the scope's multicast channel carrying the topic names
in front of the frame; each process's hub, subscribed to that channel while it has local
subscribers in the scope, hands the frame to the local subscribers of the named topics.

The payload is the topic names joined by ``\n``, a NUL, then the frame (a JSON frame
has no raw NUL: encoders escape it).
"""

from __future__ import annotations

from collections.abc import Sequence

from wealist.contracts import topics as names

__all__ = ("channel_of", "pack", "unpack")

_SEPARATOR = "\0"


def channel_of(topic: str) -> str | None:
    """The multicast channel that also reaches ``topic``, if its scope has one."""
    scope = names.scope(topic)
    return names.multicast(scope) if scope in names.MULTICAST_SCOPES else None


def pack(topics: Sequence[str], data: bytes) -> tuple[str, bytes]:
    """(channel, payload): one publish that reaches every topic of ``topics``."""
    if not topics:
        raise ValueError("a multicast needs at least one topic")
    channel = channel_of(topics[0])
    if channel is None:
        raise ValueError(f"{topics[0]!r}: its scope has no multicast channel")
    for topic in topics:
        if channel_of(topic) != channel:
            raise ValueError(f"{topic!r}: every topic must be of one multicast scope")
        if "\n" in topic or _SEPARATOR in topic:
            raise ValueError(f"{topic!r}: a topic name has no newline or NUL")
    return channel, "\n".join(topics).encode() + b"\0" + data


def unpack(payload: str) -> tuple[list[str], str]:
    """The topic names and the frame of a multicast payload."""
    head, _, frame = payload.partition(_SEPARATOR)
    return head.split("\n"), frame
