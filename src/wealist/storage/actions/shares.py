"""Shares: with a workspace member (it grants them access), or by public link.

Sharing an item needs EDIT on it; the person shared with must be a member of the item's
workspace. Who may change or revoke a share: who shared it, and the OWNER or an ADMIN of
the workspace (even without access to the item: a link of someone who left can still be
revoked). Who may see it: those, the person it is shared with, and anyone with EDIT on
the item; anyone else who may see it gets 403 on a change, the rest 404. Editing the
item is not enough: one editor cannot take over or revoke another's share or public link.
A revoked share stops working at once (access is decided from the shares table on every
request).
"""

from __future__ import annotations

import asyncio
import secrets
import uuid
from datetime import UTC, datetime, timedelta
from uuid import UUID

import msgspec
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from wealist.core.context import ServiceContext
from wealist.core.db import Conn
from wealist.core.errors import AlreadyExists, Forbidden, NotFound, ValidationFailed
from wealist.storage import store
from wealist.storage.actions.common import EDIT, access_file, access_folder
from wealist.storage.rows import FileSeat, FolderSeat, ShareRow
from wealist.storage.schemas import CreateShare, SharedItemOut, ShareOut, UpdateShare

__all__ = (
    "check_password",
    "do_create_share",
    "do_delete_share",
    "do_update_share",
    "get_share",
    "is_expired",
    "share_out",
    "shared_with_me",
    "shares_of",
)

SHARE_NOT_FOUND = "share not found"
WORKSPACE_MANAGERS = frozenset({"OWNER", "ADMIN"})  # may change or revoke anybody's share
_REFUSED = "only who shared it, or an admin of the workspace, can change or revoke a share"
_UNSEEN = "only who shared it, who it is shared with, or an editor of the item can see it"
_hasher = PasswordHasher()


def is_expired(row: ShareRow) -> bool:
    return row.link_expires_at is not None and row.link_expires_at <= datetime.now(UTC)


def share_out(row: ShareRow) -> ShareOut:
    entity_id = row.file_id or row.folder_id
    assert entity_id is not None  # the table's CHECK
    return ShareOut(
        id=row.id,
        entity_type=row.entity_type,
        entity_id=entity_id,
        entity_name=row.entity_name or "",
        shared_with_id=row.shared_with_id,
        shared_by_id=row.shared_by_id,
        shared_by_name="",  # names live in the user service; the frontend shows ids then
        permission=row.permission,
        share_link=row.share_link,
        link_expires_at=row.link_expires_at,
        is_public=row.is_public,
        is_expired=is_expired(row),
        include_children=row.include_children if row.entity_type == "FOLDER" else None,
        password_protected=row.password_hash is not None,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


async def hash_password(password: str) -> str:
    return await asyncio.to_thread(_hasher.hash, password)


async def check_password(row: ShareRow, given: str | None) -> bool:
    if row.password_hash is None:
        return True
    if not given:
        return False
    try:
        return await asyncio.to_thread(_hasher.verify, row.password_hash, given)
    except (VerificationError, InvalidHashError):
        return False


async def _entity(
    ctx: ServiceContext, conn: Conn, kind: str, entity_id: UUID, me: UUID, *, need: int
) -> FileSeat | FolderSeat:
    if kind == "FILE":
        return await access_file(ctx, conn, entity_id, me, need)
    return await access_folder(ctx, conn, entity_id, me, need)


def _expiry(days: int | None) -> datetime | None:
    return datetime.now(UTC) + timedelta(days=days) if days and days > 0 else None


async def do_create_share(ctx: ServiceContext, me: UUID, new: CreateShare) -> ShareOut:
    if new.is_public == (new.shared_with_id is not None):
        raise ValidationFailed("share either with a user (sharedWithId) or by link (isPublic)")
    if new.password is not None and not new.is_public:
        raise ValidationFailed("only a public link can have a password")
    password = await hash_password(new.password) if new.password else None
    share_id = uuid.uuid4()
    async with ctx.database.transaction() as tx:
        item = await _entity(ctx, tx, new.entity_type, new.entity_id, me, need=EDIT)
        if new.shared_with_id == me:
            raise ValidationFailed("you cannot share with yourself")
        if new.shared_with_id is not None:
            target = await ctx.membership.get(str(item.workspace_id), str(new.shared_with_id))
            if not target.is_member:
                raise ValidationFailed("the user is not a member of this workspace")
        created = await store.insert_share(
            tx,
            share_id=share_id,
            workspace_id=item.workspace_id,
            entity_type=new.entity_type,
            entity_id=new.entity_id,
            shared_with=new.shared_with_id,
            shared_by=me,
            permission=new.permission,
            link=secrets.token_urlsafe(24) if new.is_public else None,  # 32 characters
            expires=_expiry(new.expires_in_days) if new.is_public else None,
            password_hash=password,
            include_children=new.include_children,
        )
        if not created:
            raise AlreadyExists("this item is already shared with that user")
        row = await store.share_by_id(tx, share_id)
    assert row is not None  # inserted above
    return share_out(row)


async def _share_for(
    ctx: ServiceContext, conn: Conn, me: UUID, share_id: UUID, *, manage: bool
) -> ShareRow:
    """The share if the caller may see it (``manage``: change or revoke it); else 404 when
    they may not even see it, 403 when they may see it but not change it."""
    row = await store.share_by_id(conn, share_id)
    if row is None or row.entity_name is None:
        raise NotFound(SHARE_NOT_FOUND)
    membership = await ctx.membership.get(str(row.workspace_id), str(me))
    if not membership.is_member:
        raise NotFound(SHARE_NOT_FOUND)
    if row.shared_by_id == me or membership.role in WORKSPACE_MANAGERS:
        return row  # a workspace OWNER/ADMIN sees what they may revoke, item access or not
    entity_id = row.file_id or row.folder_id
    assert entity_id is not None  # the table's CHECK
    try:
        await _entity(ctx, conn, row.entity_type, entity_id, me, need=EDIT)
    except Forbidden:
        if manage or row.shared_with_id != me:
            raise Forbidden(_REFUSED if manage else _UNSEEN) from None
    except NotFound:
        raise NotFound(SHARE_NOT_FOUND) from None
    if manage:  # an editor of the item, but not whoever shared it
        raise Forbidden(_REFUSED)
    return row


def _check_type(row: ShareRow, kind: str | None) -> None:
    """The original required ``?type=``; the frontend never sends it. When given it must fit."""
    if kind is not None and kind.upper() != row.entity_type:
        raise NotFound(SHARE_NOT_FOUND)


async def get_share(ctx: ServiceContext, me: UUID, share_id: UUID) -> ShareOut:
    async with ctx.database.connection() as conn:
        return share_out(await _share_for(ctx, conn, me, share_id, manage=False))


async def do_update_share(
    ctx: ServiceContext, me: UUID, share_id: UUID, change: UpdateShare, kind: str | None
) -> ShareOut:
    password: str | None = None
    if isinstance(change.password, str):
        password = await hash_password(change.password)
    async with ctx.database.transaction() as tx:
        row = await _share_for(ctx, tx, me, share_id, manage=True)
        _check_type(row, kind)
        if change.password is not msgspec.UNSET and not row.is_public:
            raise ValidationFailed("only a public link can have a password")
        days = None if change.expires_in_days is msgspec.UNSET else change.expires_in_days
        await store.update_share(
            tx,
            share_id,
            permission=None if change.permission is msgspec.UNSET else change.permission,
            set_expiry=change.expires_in_days is not msgspec.UNSET and row.is_public,
            expires=_expiry(days),
            set_password=change.password is not msgspec.UNSET,
            password_hash=password,
        )
        updated = await store.share_by_id(tx, share_id)
    assert updated is not None  # locked by the transaction's update
    return share_out(updated)


async def do_delete_share(ctx: ServiceContext, me: UUID, share_id: UUID, kind: str | None) -> None:
    async with ctx.database.transaction() as tx:
        row = await _share_for(ctx, tx, me, share_id, manage=True)
        _check_type(row, kind)
        await store.delete_share(tx, share_id)


async def shares_of(ctx: ServiceContext, me: UUID, kind: str, entity_id: UUID) -> list[ShareOut]:
    """Who an item is shared with, and its links: for editors of the item."""
    async with ctx.database.connection() as conn:
        await _entity(ctx, conn, kind, entity_id, me, need=EDIT)
        rows = await store.shares_of(conn, kind, entity_id)
    return [share_out(r) for r in rows]


async def shared_with_me(
    ctx: ServiceContext,
    me: UUID,
    *,
    workspace_id: UUID | None,
    limit: int,
    after: tuple[datetime, UUID] | None,
) -> tuple[list[SharedItemOut], ShareRow | None]:
    """Live items shared with the caller in workspaces they still belong to, newest
    first; and the last row read (for the next page's cursor) when there may be more."""
    async with ctx.database.connection() as conn:
        rows = await store.shared_with(
            conn, me, workspace_id=workspace_id, limit=limit, after=after
        )
    member_of: dict[UUID, bool] = {}
    for ws in {r.workspace_id for r in rows}:
        member_of[ws] = (await ctx.membership.get(str(ws), str(me))).is_member
    items = [
        SharedItemOut(
            entity_type=r.entity_type,
            entity_id=r.file_id or r.folder_id or r.id,
            entity_name=r.entity_name or "",
            permission=r.permission,
            shared_by_id=r.shared_by_id,
            shared_by_name="",
            shared_at=r.created_at,
            share_id=r.id,
            workspace_id=r.workspace_id,
        )
        for r in rows
        if member_of[r.workspace_id]
    ]
    return items, rows[-1] if len(rows) == limit else None
