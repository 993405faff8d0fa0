"""Sending messages by group commit: the sends of a process that arrive together (socket
``MESSAGE`` frames and REST posts alike) are stored in one transaction.

One batch (:func:`write_batch`, run by a lane of :mod:`wealist.chat.writer`):

1. before any lock, one read of what the batch needs: each chat's participants, and the
   message already stored for a send (a retried ``clientMessageId``; or ours, when an
   earlier attempt of this batch committed and only its answer was lost); then the
   presence of the recipients, from Redis (outside the transaction);
2. in one transaction: the chats locked in id order, the seqs and revs taken from the
   locked counters in arrival order, every message, its event and the counters in one
   multi-row statement, the outbox rows in one more;
3. after COMMIT: one publish per event frame (and the recipients' unread dots), all at
   once (one pipeline where the broker batches), then each sender's answer.

Retries are answered once: a send whose ``clientMessageId`` is stored already gets the
stored message (the same content, else 422), a second send of the same id within the
batch gets the first one's answer, never a second row. A message the database refuses (a
constraint, a value it cannot hold) must not sink the others: the transaction is rolled
back and written again message by message, each in a savepoint, and only the refused
sender gets its 4xx.
"""

from __future__ import annotations

import contextlib
import functools
import uuid
from collections.abc import AsyncIterator, Hashable
from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

import psycopg
from redis.exceptions import RedisError

from wealist.chat import store
from wealist.chat.actions.common import NOT_A_PARTICIPANT, hub_of, settings_of
from wealist.chat.actions.presence import presence_of
from wealist.chat.frames import message_frame, notification_frame, with_rev
from wealist.chat.rows import LockedChatRow, NewMessage, SendStateRow
from wealist.chat.schemas import MessageOut, SendMessage
from wealist.chat.writer import GroupWriter, Link, Written, retryable
from wealist.contracts import topics
from wealist.contracts.events import NOTIFICATION_REQUESTED, NotificationRequested
from wealist.core.context import ServiceContext
from wealist.core.db import Conn, Tx
from wealist.core.errors import AppError, Forbidden, ValidationFailed
from wealist.core.outbox import enqueue_many
from wealist.core.realtime import multicast

__all__ = (
    "CHAT_MENTIONED",
    "CHAT_MESSAGE",
    "ClientIdReused",
    "MessageRefused",
    "Send",
    "send_message",
    "write_batch",
    "writer_of",
    "writing",
)

CHAT_MESSAGE = "CHAT_MESSAGE"
CHAT_MENTIONED = "CHAT_MENTIONED"
WRITER = "chat_writer"

Answer = tuple[MessageOut, bool]  # the message, and whether this send stored it
Publish = tuple[str, bytes]


class ClientIdReused(AppError):  # noqa: N818  # named like the kernel's NotFound, Conflict
    """The same clientMessageId came with a different message (IETF idempotency draft)."""

    status = 422
    code = "CLIENT_MESSAGE_ID_REUSED"
    default_message = "clientMessageId was already used for a different message"


class MessageRefused(AppError):  # noqa: N818
    """The database refused this one message (a constraint): the sender's fault or ours,
    never the other senders' of its batch."""

    status = 422
    code = "MESSAGE_REFUSED"
    default_message = "the message could not be stored"


class _Stale(Exception):  # noqa: N818  # the unlocked read was overtaken: write carefully
    pass


@dataclass(frozen=True, slots=True)
class Send:
    """One send. Its id is chosen before the first attempt, so a re-run of the batch
    finds what an attempt whose COMMIT answer was lost stored."""

    me: UUID
    chat_id: UUID
    new: SendMessage
    id: UUID = field(default_factory=uuid.uuid4)

    @property
    def key(self) -> tuple[UUID, UUID, str] | None:
        """What identifies a retry (messages_client_message_key), if the client gave one."""
        cid = self.new.client_message_id
        return None if cid is None else (self.chat_id, self.me, cid)

    def fields(self) -> tuple[object, ...]:
        n = self.new
        return (n.content, n.message_type, n.file_url, n.file_name, n.file_size)


# --- the writer ---------------------------------------------------------------------------


def writer_of(ctx: ServiceContext) -> GroupWriter[Send, Answer]:
    found = ctx.state.get(WRITER)
    if found is None:
        raise RuntimeError("the chat writer runs within the service's lifespan (chat.hooks)")
    assert isinstance(found, GroupWriter)
    return found


@contextlib.asynccontextmanager
async def writing(ctx: ServiceContext) -> AsyncIterator[GroupWriter[Send, Answer]]:
    """The process's message writer, for the duration of the block (it writes and
    answers what is queued before the block ends)."""
    settings = settings_of(ctx)
    writer: GroupWriter[Send, Answer] = GroupWriter(
        "wealist chat writer",
        ctx.database,
        functools.partial(write_batch, ctx),
        lanes=settings.send_lanes,
        batch_max=settings.send_batch_max,
        linger_s=settings.send_linger_s,
        queue_max=settings.send_queue_max,
        retry_s=settings.db_pool_timeout_s,
    )
    writer.start()
    ctx.state[WRITER] = writer
    try:
        yield writer
    finally:
        await writer.close()
        ctx.state.pop(WRITER, None)


async def send_message(ctx: ServiceContext, send: Send) -> Answer:
    """Store ``send`` in the next batch of its chat's lane: after COMMIT, the message and
    whether it is new (False: a retry, answered with the stored one)."""
    lane_key: Hashable = send.chat_id
    return await writer_of(ctx).submit(lane_key, send)


# --- one batch ----------------------------------------------------------------------------


@dataclass
class _Fresh:
    """A send to store: where it stands before the write."""

    index: int
    send: Send
    workspace_id: UUID
    others: list[UUID]


@dataclass
class _Stored:
    fresh: _Fresh
    message: MessageOut
    row: NewMessage


@dataclass
class _Batch:
    sends: list[Send]
    answers: list[Answer | BaseException | None]
    publishes: list[Publish] = field(default_factory=list)
    followers: dict[int, int] = field(default_factory=dict)  # a repeated client id -> first


async def _state(conn: Conn, sends: list[Send]) -> list[SendStateRow]:
    return await store.send_state(
        conn,
        ids=[s.id for s in sends],
        chats=[s.chat_id for s in sends],
        users=[s.me for s in sends],
        client_ids=[s.new.client_message_id for s in sends],
    )


def _found(send: Send, row: SendStateRow) -> MessageOut:
    assert row.found_id is not None and row.found_seq is not None
    assert row.found_created_at is not None and row.found_updated_at is not None
    return MessageOut(
        message_id=row.found_id,
        chat_id=send.chat_id,
        user_id=send.me,
        content=row.found_content or "",
        message_type=row.found_message_type or "TEXT",
        file_url=row.found_file_url,
        file_name=row.found_file_name,
        file_size=row.found_file_size,
        created_at=row.found_created_at,
        updated_at=row.found_updated_at,
        deleted_at=row.found_deleted_at,
        seq=row.found_seq,
        client_message_id=row.found_client_message_id,
    )


def _same(send: Send, row: SendStateRow) -> bool:
    stored = (
        row.found_content,
        row.found_message_type,
        row.found_file_url,
        row.found_file_name,
        row.found_file_size,
    )
    return stored == send.fields()


def _decide(batch: _Batch, index: int, row: SendStateRow) -> _Fresh | None:
    """Answer a send from what is stored, or say it is to be written."""
    send = batch.sends[index]
    if row.found_id is not None:
        message = _found(send, row)
        if row.found_ours:  # an earlier attempt of this batch stored it: announce it now
            batch.answers[index] = (message, True)
            if row.found_event is not None:
                batch.publishes.append((topics.chat(str(send.chat_id)), row.found_event.encode()))
            if row.workspace_id is not None:
                others = [u for u in row.members if u != send.me]
                batch.publishes += _unread_dots(row.workspace_id, others, message)
        elif _same(send, row):
            # A retry: the stored message, announced again (harmless: sockets drop revs
            # they have), which covers a first attempt that died before it published.
            batch.answers[index] = (message, False)
            if row.found_event is not None:
                batch.publishes.append((topics.chat(str(send.chat_id)), row.found_event.encode()))
        else:
            batch.answers[index] = ClientIdReused()
        return None
    if row.workspace_id is None or send.me not in row.members:
        batch.answers[index] = Forbidden(NOT_A_PARTICIPANT)  # left, or the chat is gone
        return None
    others = [u for u in row.members if u != send.me]
    return _Fresh(index, send, row.workspace_id, others)


def _unread_dots(workspace_id: UUID, others: list[UUID], message: MessageOut) -> list[Publish]:
    # NEW_MESSAGE_NOTIFICATION on the other participants' presence sockets (unread dots):
    # one multicast publish for all of them, not one per participant.
    if not others:
        return []
    frame = notification_frame(workspace_id, message).encode()
    return [multicast.pack([topics.chat_user(str(u)) for u in others], frame)]


def _plan(batch: _Batch, rows: list[SendStateRow]) -> list[_Fresh]:
    """The sends to write, in arrival order; the others answered. A client id repeated
    within the batch is written once: the later sends follow the first."""
    first: dict[tuple[UUID, UUID, str], int] = {}
    fresh: list[_Fresh] = []
    for index, row in enumerate(rows):
        key = batch.sends[index].key
        if row.found_id is None and key is not None:
            if key in first:
                batch.followers[index] = first[key]
                continue
            first[key] = index
        decided = _decide(batch, index, row)
        if decided is not None:
            fresh.append(decided)
    return fresh


async def _statuses(ctx: ServiceContext, fresh: list[_Fresh]) -> dict[tuple[UUID, UUID], str]:
    """The recipients' presence, in one round trip, read before any lock is taken.
    Unknown (Redis is away): offline, rather notify too often than never (T03)."""
    asked: dict[UUID, set[UUID]] = {}
    for f in fresh:
        if f.others:
            asked.setdefault(f.workspace_id, set()).update(f.others)
    if not asked:
        return {}
    order = [(w, sorted(users)) for w, users in asked.items()]
    try:
        found = await presence_of(ctx).statuses_many(
            (str(w), [str(u) for u in users]) for w, users in order
        )
    except (RedisError, OSError):
        return {}
    return {
        (workspace, user): status
        for (workspace, users), statuses in zip(order, found, strict=True)
        for user, status in zip(users, statuses, strict=True)
    }


def _build(fresh: _Fresh, chat: list[int], at: datetime) -> _Stored:
    """The message with the chat's next seq and rev (``chat``: [last seq, last rev])."""
    send, new = fresh.send, fresh.send.new
    seq, rev = chat[0] + 1, chat[1] + 1
    message = MessageOut(
        message_id=send.id,
        chat_id=send.chat_id,
        user_id=send.me,
        content=new.content,
        message_type=new.message_type,
        file_url=new.file_url,
        file_name=new.file_name,
        file_size=new.file_size,
        created_at=at,
        updated_at=at,
        deleted_at=None,
        seq=seq,
        client_message_id=new.client_message_id,
    )
    row = NewMessage(
        id=send.id,
        chat_id=send.chat_id,
        seq=seq,
        rev=rev,
        user_id=send.me,
        content=new.content,
        message_type=new.message_type,
        file_url=new.file_url,
        file_name=new.file_name,
        file_size=new.file_size,
        client_message_id=new.client_message_id,
        created_at=at,
        frame=with_rev(rev, message_frame(message)),
    )
    return _Stored(fresh, message, row)


def _notifications(
    stored: list[_Stored], statuses: dict[tuple[UUID, UUID], str]
) -> list[tuple[str, object]]:
    """Outbox events: a mention for each mentioned participant, a message for each
    offline one (the mentions first)."""
    mentions: list[tuple[str, object]] = []
    offline: list[tuple[str, object]] = []
    for s in stored:
        fresh, message = s.fresh, s.message
        mentioned = set(fresh.send.new.mentions)
        for user in fresh.others:
            if user in mentioned:
                kind, into = CHAT_MENTIONED, mentions
            elif statuses.get((fresh.workspace_id, user), "OFFLINE") == "OFFLINE":
                kind, into = CHAT_MESSAGE, offline
            else:
                continue
            event = NotificationRequested(
                type=kind,
                actor_id=str(fresh.send.me),
                target_user_id=str(user),
                workspace_id=str(fresh.workspace_id),
                resource_type="chat",
                resource_id=str(fresh.send.chat_id),
                metadata={"messageId": str(message.message_id), "seq": str(message.seq)},
            )
            into.append((NOTIFICATION_REQUESTED, event))
    return mentions + offline


def _counters(locked: list[LockedChatRow]) -> dict[UUID, list[int]]:
    return {r.id: [r.last_seq, r.last_rev] for r in locked}


async def _write_at_once(
    tx: Tx, fresh: list[_Fresh], statuses: dict[tuple[UUID, UUID], str]
) -> tuple[list[_Stored], dict[int, BaseException]]:
    """Every fresh send in one statement (the usual case)."""
    locked = await store.lock_chats(tx, sorted({f.send.chat_id for f in fresh}))
    counters = _counters(locked)
    refused: dict[int, BaseException] = {}
    stored: list[_Stored] = []
    if locked:
        at = locked[0].now
        for f in fresh:
            chat = counters.get(f.send.chat_id)
            if chat is None:  # deleted since the read
                refused[f.index] = Forbidden(NOT_A_PARTICIPANT)
                continue
            built = _build(f, chat, at)
            chat[0], chat[1] = built.row.seq, built.row.rev
            stored.append(built)
        if stored:
            if await store.insert_messages(tx, [s.row for s in stored], at) != len(stored):
                raise _Stale  # a concurrent retry or removal overtook the read: roll back
            await enqueue_many(tx, _notifications(stored, statuses))
    else:
        refused = {f.index: Forbidden(NOT_A_PARTICIPANT) for f in fresh}
    return stored, refused


def _refusal(exc: BaseException) -> BaseException:
    """What the sender of a message the database refused is told."""
    if isinstance(exc, AppError):  # a value the driver refused (NUL): 400 already
        return exc
    if isinstance(exc, psycopg.errors.IntegrityError):
        return MessageRefused()
    if isinstance(exc, psycopg.DataError):
        return ValidationFailed("the message holds a value that cannot be stored")
    return AppError("the message could not be stored")


async def _write_one_by_one(
    tx: Tx, batch: _Batch, fresh: list[_Fresh], statuses: dict[tuple[UUID, UUID], str]
) -> tuple[list[_Stored], dict[int, BaseException]]:
    """After a failed batch: every send alone, in a savepoint, against state read under
    the locks (exact: nobody else writes these chats' messages until commit)."""
    locked = await store.lock_chats(tx, sorted({f.send.chat_id for f in fresh}))
    counters = _counters(locked)
    rows = await _state(tx, [f.send for f in fresh])
    refused: dict[int, BaseException] = {}
    stored: list[_Stored] = []
    for was, row in zip(fresh, rows, strict=True):
        f = _decide(batch, was.index, row)  # found or refused meanwhile: answered there
        if f is None:
            continue
        chat = counters.get(f.send.chat_id)
        if chat is None:
            refused[f.index] = Forbidden(NOT_A_PARTICIPANT)
            continue
        built = _build(f, chat, locked[0].now)
        try:
            async with tx.savepoint():
                kept = await store.insert_messages(tx, [built.row], locked[0].now)
        except Exception as exc:
            if retryable(exc) or not isinstance(exc, psycopg.Error | AppError):
                raise
            refused[f.index] = _refusal(exc)
            continue
        if kept != 1:  # removed from the chat meanwhile
            refused[f.index] = Forbidden(NOT_A_PARTICIPANT)
            continue
        chat[0], chat[1] = built.row.seq, built.row.rev
        stored.append(built)
    await enqueue_many(tx, _notifications(stored, statuses))
    return stored, refused


def _refusable(exc: BaseException) -> bool:
    """A failure of the multi-row write that one message may cause: try one by one."""
    if retryable(exc):
        return False
    return isinstance(exc, _Stale | psycopg.Error | ValidationFailed)


async def write_batch(ctx: ServiceContext, link: Link, sends: list[Send]) -> Written[Answer]:
    """Store a batch of sends (see the module); one answer per send.

    A send that repeats the client id of an earlier one with other content waits for
    that one's outcome: refused (not stored), it is written in a round of its own after
    the first one committed; stored, it is answered 422. Each round takes the first of
    every client id, so the rounds end.
    """
    answers: list[Answer | BaseException | None] = [None] * len(sends)
    publishes: list[Publish] = []
    pending = list(range(len(sends)))
    while pending:
        batch = await _round(ctx, link, [sends[i] for i in pending])
        publishes += batch.publishes
        later = []
        for i, answer in zip(pending, batch.answers, strict=True):
            if answer is None:
                later.append(i)
            answers[i] = answer
        pending = later
    given: list[Answer | BaseException] = [a for a in answers if a is not None]
    assert len(given) == len(sends), "every send of a batch is answered"
    return Written(given, (lambda: _publish(ctx, publishes)) if publishes else None)


async def _round(ctx: ServiceContext, link: Link, sends: list[Send]) -> _Batch:
    """One read, one transaction: every send answered but followers left for later."""
    batch = _Batch(sends, [None] * len(sends))
    fresh = _plan(batch, await _state(link.conn, sends))
    if fresh:
        statuses = await _statuses(ctx, fresh)
        refused: dict[int, BaseException]
        try:
            async with link.transaction() as tx:
                stored, refused = await _write_at_once(tx, fresh, statuses)
        except Exception as exc:
            if not _refusable(exc):
                raise
            if not isinstance(exc, _Stale):
                ctx.log.warning("chat.batch_refused", size=len(fresh), error=type(exc).__name__)
            async with link.transaction() as tx:
                stored, refused = await _write_one_by_one(tx, batch, fresh, statuses)
        for index, why in refused.items():
            batch.answers[index] = why
        for s in stored:
            batch.answers[s.fresh.index] = (s.message, True)
            batch.publishes.append((topics.chat(str(s.message.chat_id)), s.row.frame.encode()))
        for s in stored:
            batch.publishes += _unread_dots(s.fresh.workspace_id, s.fresh.others, s.message)
    for index, first in batch.followers.items():
        batch.answers[index] = _follow(batch, index, first)
    return batch


def _follow(batch: _Batch, index: int, first: int) -> Answer | BaseException | None:
    """A send repeating a client id of an earlier one in its round: that one's message
    (not new) or refusal when they are the same; 422 when they differ and the first was
    stored; None (a later round) when they differ and the first was not."""
    answer = batch.answers[first]
    if batch.sends[index].fields() == batch.sends[first].fields():
        return (answer[0], False) if isinstance(answer, tuple) else answer
    return ClientIdReused() if isinstance(answer, tuple) else None


async def _publish(ctx: ServiceContext, publishes: list[Publish]) -> None:
    """Every frame of a committed batch, in order, in one pipeline (the broker's)."""
    try:
        await hub_of(ctx).publish_many(publishes)
    except Exception as exc:  # noqa: BLE001  # stored and acked either way; sockets catch up from PG
        ctx.log.warning("chat.publish_failed", frames=len(publishes), error=type(exc).__name__)
