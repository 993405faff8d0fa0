"""``/api/storage/folders`` and the workspace's folder lists: ``{success, data}``."""

from __future__ import annotations

from typing import Annotated, TypeVar

from litestar import Response, delete, get, post, put
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from wealist.core.deps import Caller, Ctx
from wealist.storage.actions import folders as actions
from wealist.storage.actions import listings
from wealist.storage.actions.common import caller_id, parse_uuid
from wealist.storage.schemas import (
    CreateFolder,
    Done,
    DoneWith,
    FolderOut,
    Ok,
    UpdateFolder,
    ok,
)

__all__ = ("ROUTES", "Limit", "cursor_page")

# ruff: noqa: N803  # path and query names keep the contract's camelCase

T = TypeVar("T")
Limit = Annotated[int, QueryParameter(ge=1, le=500)]


def cursor_page(items: T, following: str | None) -> Response[Ok[T]]:
    """``{success, data}``, and ``X-Next-Cursor`` when there is a next page."""
    headers = {"X-Next-Cursor": following} if following else {}
    return Response(ok(items), headers=headers)


@post("/api/storage/folders", status_code=201)
async def create_folder(ctx: Ctx, caller: Caller, data: JSONBody[CreateFolder]) -> Ok[FolderOut]:
    """A folder where the caller may edit; a taken name becomes "name (n)"."""
    return ok(await actions.do_create_folder(ctx, caller_id(caller), data))


@get("/api/storage/folders/contents")
async def folder_contents(
    ctx: Ctx,
    caller: Caller,
    workspaceId: FromQuery[str],
    folderId: FromQuery[str | None] = None,
    projectId: FromQuery[str | None] = None,
) -> Ok[FolderOut]:
    """A folder's folders and files; without ``folderId`` the root of the workspace's
    drive, or of the shared drive ``projectId``."""
    workspace = parse_uuid(workspaceId, "workspaceId")
    folder = parse_uuid(folderId, "folderId") if folderId else None
    project = parse_uuid(projectId, "projectId") if projectId else None
    me = caller_id(caller)
    return ok(await actions.folder_contents(ctx, me, workspace, folder, project))


@get("/api/storage/folders/{folderId:str}")
async def get_folder(ctx: Ctx, caller: Caller, folderId: FromPath[str]) -> Ok[FolderOut]:
    folder = parse_uuid(folderId, "folderId")
    return ok(await actions.get_folder(ctx, caller_id(caller), folder))


@put("/api/storage/folders/{folderId:str}")
async def update_folder(
    ctx: Ctx, caller: Caller, folderId: FromPath[str], data: JSONBody[UpdateFolder]
) -> Ok[FolderOut]:
    """Rename, recolour or move (the nil UUID as ``parentId`` moves it to the root)."""
    folder = parse_uuid(folderId, "folderId")
    return ok(await actions.do_update_folder(ctx, caller_id(caller), folder, data))


@delete("/api/storage/folders/{folderId:str}", status_code=200)
async def trash_folder(ctx: Ctx, caller: Caller, folderId: FromPath[str]) -> Done:
    """The folder and everything under it go to the trash."""
    await actions.do_trash_folder(ctx, caller_id(caller), parse_uuid(folderId, "folderId"))
    return Done("Folder moved to trash")


@post("/api/storage/folders/{folderId:str}/restore", status_code=200)
async def restore_folder(ctx: Ctx, caller: Caller, folderId: FromPath[str]) -> DoneWith[FolderOut]:
    folder = parse_uuid(folderId, "folderId")
    restored = await actions.do_restore_folder(ctx, caller_id(caller), folder)
    return DoneWith("Folder restored", restored)


@delete("/api/storage/folders/{folderId:str}/permanent", status_code=200)
async def purge_folder(ctx: Ctx, caller: Caller, folderId: FromPath[str]) -> Done:
    """The folder, everything under it and their stored objects, for good."""
    await actions.do_purge_folder(ctx, caller_id(caller), parse_uuid(folderId, "folderId"))
    return Done("Folder permanently deleted")


@get("/api/storage/workspaces/{workspaceId:str}/folders")
async def workspace_folders(
    ctx: Ctx, caller: Caller, workspaceId: FromPath[str]
) -> Ok[list[FolderOut]]:
    workspace = parse_uuid(workspaceId, "workspaceId")
    return ok(await actions.workspace_folders(ctx, caller_id(caller), workspace))


@get("/api/storage/workspaces/{workspaceId:str}/trash/folders")
async def trashed_folders(
    ctx: Ctx,
    caller: Caller,
    workspaceId: FromPath[str],
    limit: Limit = 100,
    cursor: FromQuery[str | None] = None,
) -> Response[Ok[list[FolderOut]]]:
    """Folders in the trash that the caller may restore, newest first."""
    workspace = parse_uuid(workspaceId, "workspaceId")
    found, following = await listings.trashed_folders(
        ctx, caller_id(caller), workspace, limit=limit, cursor=cursor
    )
    return cursor_page(found, following)


ROUTES = [
    create_folder,
    folder_contents,
    get_folder,
    update_folder,
    trash_folder,
    restore_folder,
    purge_folder,
    workspace_folders,
    trashed_folders,
]
