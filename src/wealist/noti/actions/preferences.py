"""Preferences: per notification type, the in-app and email channels, for every workspace
or one (a workspace's choice overrides the global one channel by channel).

They are read where notifications are created (in the insert itself), so a change
applies to the next notification. Email needs an address: the verified one of the token
that turned email on is remembered for the digests.
"""

from __future__ import annotations

import re
from uuid import UUID

import msgspec

from wealist.core.context import ServiceContext
from wealist.core.errors import NotFound, ValidationFailed
from wealist.core.security import Principal
from wealist.noti import store
from wealist.noti.actions.common import caller_id
from wealist.noti.rows import PreferenceRow
from wealist.noti.schemas import (
    NOTIFICATION_TYPES,
    PreferenceChange,
    PreferenceOut,
    PreferencesOut,
    PreferencesUpdate,
    Source,
)

__all__ = ("access_scope", "do_update_preferences", "get_preferences")

_ADDRESS = re.compile(
    r"[^\s@\x00-\x1f\x7f<>,;\"]+@[^\s@\x00-\x1f\x7f<>,;\"]+\.[^\s@\x00-\x1f\x7f<>,;\"]+"
)
DEFAULT_IN_APP = True
DEFAULT_EMAIL = False


async def access_scope(ctx: ServiceContext, user: UUID, workspace: UUID | None) -> None:
    """A workspace scope needs membership (404 otherwise, as if it did not exist)."""
    if workspace is None:
        return
    membership = await ctx.membership.get(str(workspace), str(user))
    if not membership.is_member:
        raise NotFound("workspace not found")


def effective(rows: list[PreferenceRow], workspace: UUID | None) -> list[PreferenceOut]:
    """Every type's channels: the workspace's row, then the global one, then the default."""
    mine = {r.type: r for r in rows if workspace is not None and r.workspace_id == workspace}
    everywhere = {r.type: r for r in rows if r.workspace_id is None}
    found: list[PreferenceOut] = []
    for kind in NOTIFICATION_TYPES:
        in_app, email = DEFAULT_IN_APP, DEFAULT_EMAIL
        in_app_from: Source = "default"
        email_from: Source = "default"
        layers: tuple[tuple[Source, PreferenceRow | None], ...] = (
            ("global", everywhere.get(kind)),
            ("workspace", mine.get(kind)),
        )
        for source, row in layers:
            if row is None:
                continue
            if row.in_app is not None:
                in_app, in_app_from = row.in_app, source
            if row.email is not None:
                email, email_from = row.email, source
        found.append(
            PreferenceOut(
                type=kind,
                in_app=in_app,
                email=email,
                in_app_source=in_app_from,
                email_source=email_from,
            )
        )
    return found


async def get_preferences(
    ctx: ServiceContext, caller: Principal, workspace: UUID | None
) -> PreferencesOut:
    user = caller_id(caller)
    await access_scope(ctx, user, workspace)
    async with ctx.database.connection() as conn:
        rows = await store.preferences_in_scope(conn, user, workspace)
        address = await store.get_recipient(conn, user)
    return PreferencesOut(
        workspace_id=workspace, email_address=address, preferences=effective(rows, workspace)
    )


def _changes(changes: list[PreferenceChange]) -> dict[str, list[object]]:
    columns: dict[str, list[object]] = {
        "types": [],
        "set_in_app": [],
        "in_app": [],
        "set_email": [],
        "email": [],
    }
    for change in changes:
        columns["types"].append(change.type)
        columns["set_in_app"].append(change.in_app is not msgspec.UNSET)
        columns["in_app"].append(None if change.in_app is msgspec.UNSET else change.in_app)
        columns["set_email"].append(change.email is not msgspec.UNSET)
        columns["email"].append(None if change.email is msgspec.UNSET else change.email)
    return columns


def _token_address(caller: Principal) -> str | None:
    email = (caller.email or "").strip()
    return email if _ADDRESS.fullmatch(email) else None


async def do_update_preferences(
    ctx: ServiceContext, caller: Principal, update: PreferencesUpdate
) -> PreferencesOut:
    user = caller_id(caller)
    types = [c.type for c in update.preferences]
    if len(set(types)) != len(types):
        raise ValidationFailed("each type may appear once in preferences")
    await access_scope(ctx, user, update.workspace_id)
    wants_email = any(c.email is True for c in update.preferences)
    token_address = _token_address(caller)
    async with ctx.database.transaction() as tx:
        if wants_email:
            if token_address is not None:
                await store.save_recipient(tx, user, token_address)
            elif await store.get_recipient(tx, user) is None:
                raise ValidationFailed(
                    "email needs an address: sign in with an account that has an email"
                )
        await store.add_preference_rows(tx, user, update.workspace_id, list(types))
        await store.update_preferences(tx, user, update.workspace_id, _changes(update.preferences))
        rows = await store.preferences_in_scope(tx, user, update.workspace_id)
        address = await store.get_recipient(tx, user)
    return PreferencesOut(
        workspace_id=update.workspace_id,
        email_address=address,
        preferences=effective(rows, update.workspace_id),
    )
