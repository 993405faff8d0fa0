"""What noti processes publish to each other on a user's topic, and how a stream reads it.

A published frame is one header line, ``<kind> <seq> <workspaceId>``, then the SSE event
(without its ``id:`` line) exactly as streams send it, formatted once by the publisher:

- ``n``: a new notification; ``seq`` is its place in the user's stream and its SSE id.
- ``s``: a state change (``read``, ``read-all``, ``deleted``); ``seq`` is ``-``, and each
  stream labels it with the id of the last notification it sent.

Streams read the header to deduplicate against replayed events and to detect gaps, and
prepend the ``id:`` line; they never decode the JSON.
"""

from __future__ import annotations

from uuid import UUID

import msgspec

from wealist.core.realtime.sse import format_event

__all__ = ("GAP", "Frame", "notification_frame", "parse", "state_frame", "with_id")

GAP = "\x00gap"  # queued locally (never published) when the broker may have lost frames

_encode = msgspec.json.Encoder().encode


class Frame(msgspec.Struct, frozen=True, gc=False):
    kind: str  # "n" or "s"
    seq: int  # 0 for state changes
    workspace_id: str
    event: str  # the SSE event without its id line


def notification_frame(seq: int, workspace_id: UUID, notification: msgspec.Struct) -> bytes:
    event = format_event(_encode(notification).decode(), event="notification")
    return f"n {seq} {workspace_id}\n".encode() + event


def state_frame(event: str, workspace_id: UUID, data: msgspec.Struct) -> bytes:
    body = format_event(_encode(data).decode(), event=event)
    return f"s - {workspace_id}\n".encode() + body


def parse(frame: str) -> Frame | None:
    """The frame's header and event; None for anything else (never from our publishers)."""
    header, _, event = frame.partition("\n")
    parts = header.split(" ")
    if len(parts) != 3 or not event:
        return None
    kind, seq, workspace_id = parts
    if kind == "n" and seq.isdigit():
        return Frame("n", int(seq), workspace_id, event)
    if kind == "s":
        return Frame("s", 0, workspace_id, event)
    return None


def with_id(event: str | bytes, event_id: int) -> bytes:
    """The event as a stream sends it: its ``id:`` line first."""
    body = event.encode() if isinstance(event, str) else event
    return f"id: {event_id}\n".encode() + body
