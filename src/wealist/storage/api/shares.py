"""``/api/storage/shares``, shared-with-me and the public link routes."""

from __future__ import annotations

from litestar import Response, delete, get, post, put
from litestar.params import FromPath, FromQuery, JSONBody

from wealist.core.deps import Caller, Ctx
from wealist.core.errors import ValidationFailed
from wealist.storage.actions import public, shares
from wealist.storage.actions.common import caller_id, decode_keyset, encode_cursor, parse_uuid
from wealist.storage.api.folders import Limit, cursor_page
from wealist.storage.schemas import (
    CreateShare,
    DoneWith,
    DownloadOut,
    Ok,
    PublicDownload,
    PublicShareOut,
    SharedItemOut,
    ShareOut,
    UpdateShare,
    ok,
)

__all__ = ("ROUTES",)

# ruff: noqa: N803  # path and query names keep the contract's camelCase

ENTITY_TYPES = {"FILE", "FOLDER"}


def _entity_type(raw: str) -> str:
    kind = raw.upper()
    if kind not in ENTITY_TYPES:
        raise ValidationFailed("entityType must be FILE or FOLDER")
    return kind


@post("/api/storage/shares", status_code=201)
async def create_share(ctx: Ctx, caller: Caller, data: JSONBody[CreateShare]) -> Ok[ShareOut]:
    """Share an item the caller may edit with a workspace member, or by public link."""
    return ok(await shares.do_create_share(ctx, caller_id(caller), data))


@get("/api/storage/shares/{shareId:str}")
async def get_share(ctx: Ctx, caller: Caller, shareId: FromPath[str]) -> Ok[ShareOut]:
    share = parse_uuid(shareId, "shareId")
    return ok(await shares.get_share(ctx, caller_id(caller), share))


@put("/api/storage/shares/{shareId:str}")
async def update_share(
    ctx: Ctx,
    caller: Caller,
    shareId: FromPath[str],
    data: JSONBody[UpdateShare],
    type: FromQuery[str | None] = None,  # noqa: A002  # optional now (contract 13.2)
) -> DoneWith[ShareOut]:
    share = parse_uuid(shareId, "shareId")
    updated = await shares.do_update_share(ctx, caller_id(caller), share, data, type)
    return DoneWith("Share updated", updated)


@delete("/api/storage/shares/{shareId:str}", status_code=200)
async def delete_share(
    ctx: Ctx,
    caller: Caller,
    shareId: FromPath[str],
    type: FromQuery[str | None] = None,  # noqa: A002  # optional now (contract 13.2)
) -> DoneWith[None]:
    """Revoke a share; it stops granting access at once."""
    await shares.do_delete_share(ctx, caller_id(caller), parse_uuid(shareId, "shareId"), type)
    return DoneWith("Share removed", None)


@get("/api/storage/shares/entity/{entityType:str}/{entityId:str}")
async def shares_of_entity(
    ctx: Ctx, caller: Caller, entityType: FromPath[str], entityId: FromPath[str]
) -> Ok[list[ShareOut]]:
    entity = parse_uuid(entityId, "entityId")
    me = caller_id(caller)
    return ok(await shares.shares_of(ctx, me, _entity_type(entityType), entity))


@get("/api/storage/files/{fileId:str}/shares")
async def shares_of_file(ctx: Ctx, caller: Caller, fileId: FromPath[str]) -> Ok[list[ShareOut]]:
    file = parse_uuid(fileId, "fileId")
    return ok(await shares.shares_of(ctx, caller_id(caller), "FILE", file))


@get("/api/storage/folders/{folderId:str}/shares")
async def shares_of_folder(ctx: Ctx, caller: Caller, folderId: FromPath[str]) -> Ok[list[ShareOut]]:
    folder = parse_uuid(folderId, "folderId")
    return ok(await shares.shares_of(ctx, caller_id(caller), "FOLDER", folder))


@get("/api/storage/shared-with-me")
async def shared_with_me(
    ctx: Ctx,
    caller: Caller,
    workspaceId: FromQuery[str | None] = None,
    limit: Limit = 100,
    cursor: FromQuery[str | None] = None,
) -> Response[Ok[list[SharedItemOut]]]:
    """Live items shared with the caller, newest first (``X-Next-Cursor`` pages on)."""
    workspace = parse_uuid(workspaceId, "workspaceId") if workspaceId else None
    items, last = await shares.shared_with_me(
        ctx, caller_id(caller), workspace_id=workspace, limit=limit, after=decode_keyset(cursor)
    )
    return cursor_page(items, encode_cursor(last.created_at, last.id) if last else None)


@get("/api/storage/shares/link/{link:str}")
async def link_share(ctx: Ctx, caller: Caller, link: FromPath[str]) -> Ok[ShareOut]:
    return ok(await public.link_share(ctx, link))


@get("/api/public/storage/shares/link/{link:str}")
async def public_link_share(ctx: Ctx, link: FromPath[str]) -> Ok[ShareOut]:
    """No sign-in: the link is the permission."""
    return ok(await public.link_share(ctx, link))


@get("/api/public/storage/share/{link:str}")
async def public_link_details(ctx: Ctx, link: FromPath[str]) -> Ok[PublicShareOut]:
    """The path the frontend calls: the share and its file or folder."""
    return ok(await public.link_details(ctx, link))


@post("/api/public/storage/share/{link:str}/download", status_code=200)
async def public_link_download(
    ctx: Ctx, link: FromPath[str], data: JSONBody[PublicDownload]
) -> Ok[DownloadOut]:
    """A short-lived download URL; the password (if any) travels in the body."""
    return ok(await public.link_download(ctx, link, data))


ROUTES = [
    create_share,
    get_share,
    update_share,
    delete_share,
    shares_of_entity,
    shares_of_file,
    shares_of_folder,
    shared_with_me,
    link_share,
    public_link_share,
    public_link_details,
    public_link_download,
]
