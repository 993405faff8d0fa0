"""``/api/storage/files``, versions, the workspace's file lists, search, usage and trash."""

from __future__ import annotations

from typing import Annotated, Literal

from litestar import Response, delete, get, post, put
from litestar.params import FromPath, FromQuery, JSONBody, PathParameter, QueryParameter

from wealist.core.deps import Caller, Ctx
from wealist.core.errors import ValidationFailed
from wealist.storage.actions import files as actions
from wealist.storage.actions import listings, uploads
from wealist.storage.actions.common import caller_id, parse_uuid
from wealist.storage.api.common import paging
from wealist.storage.api.folders import Limit, cursor_page
from wealist.storage.schemas import (
    ConfirmUpload,
    Done,
    DoneWith,
    DownloadOut,
    EmptyTrashOut,
    FileListOut,
    FileOut,
    Ok,
    SearchOut,
    UpdateFile,
    UploadUrlOut,
    UploadUrlRequest,
    UsageOut,
    VersionOut,
    VersionUploadRequest,
    ok,
)

__all__ = ("ROUTES",)

# ruff: noqa: N803  # path and query names keep the contract's camelCase

VersionNumber = Annotated[int, PathParameter(ge=1)]


@post("/api/storage/files/upload-url", status_code=200)
async def upload_url(
    ctx: Ctx, caller: Caller, data: JSONBody[UploadUrlRequest]
) -> Ok[UploadUrlOut]:
    """Step 1: a presigned PUT for exactly the declared type and size."""
    return ok(await uploads.do_issue_upload(ctx, caller_id(caller), data))


@post("/api/storage/files/confirm", status_code=200)
async def confirm_upload(ctx: Ctx, caller: Caller, data: JSONBody[ConfirmUpload]) -> Ok[FileOut]:
    """Step 3: the uploaded object, checked, becomes the file (or its newest version)."""
    return ok(await uploads.do_confirm_upload(ctx, caller_id(caller), data))


@get("/api/storage/files/{fileId:str}")
async def get_file(ctx: Ctx, caller: Caller, fileId: FromPath[str]) -> Ok[FileOut]:
    return ok(await actions.get_file(ctx, caller_id(caller), parse_uuid(fileId, "fileId")))


@get("/api/storage/files/{fileId:str}/download")
async def download_file(ctx: Ctx, caller: Caller, fileId: FromPath[str]) -> Ok[DownloadOut]:
    """A presigned GET of at most 5 minutes that saves the file under its name."""
    file = parse_uuid(fileId, "fileId")
    return ok(await actions.download_url(ctx, caller_id(caller), file))


@put("/api/storage/files/{fileId:str}")
async def update_file(
    ctx: Ctx, caller: Caller, fileId: FromPath[str], data: JSONBody[UpdateFile]
) -> Ok[FileOut]:
    """Rename or move (the nil UUID as ``folderId`` moves it to the root)."""
    file = parse_uuid(fileId, "fileId")
    return ok(await actions.do_update_file(ctx, caller_id(caller), file, data))


@delete("/api/storage/files/{fileId:str}", status_code=200)
async def trash_file(ctx: Ctx, caller: Caller, fileId: FromPath[str]) -> Done:
    await actions.do_trash_file(ctx, caller_id(caller), parse_uuid(fileId, "fileId"))
    return Done("File moved to trash")


@post("/api/storage/files/{fileId:str}/restore", status_code=200)
async def restore_file(ctx: Ctx, caller: Caller, fileId: FromPath[str]) -> DoneWith[FileOut]:
    file = parse_uuid(fileId, "fileId")
    return DoneWith("File restored", await actions.do_restore_file(ctx, caller_id(caller), file))


@delete("/api/storage/files/{fileId:str}/permanent", status_code=200)
async def purge_file(ctx: Ctx, caller: Caller, fileId: FromPath[str]) -> Done:
    """The file and every version's stored object, for good."""
    await actions.do_purge_file(ctx, caller_id(caller), parse_uuid(fileId, "fileId"))
    return Done("File permanently deleted")


@post("/api/storage/files/{fileId:str}/versions/upload-url", status_code=200)
async def version_upload_url(
    ctx: Ctx, caller: Caller, fileId: FromPath[str], data: JSONBody[VersionUploadRequest]
) -> Ok[UploadUrlOut]:
    """Step 1 of a new version; confirm it with ``{fileId, versionId}``."""
    file = parse_uuid(fileId, "fileId")
    return ok(await uploads.do_issue_version_upload(ctx, caller_id(caller), file, data))


@get("/api/storage/files/{fileId:str}/versions")
async def list_versions(ctx: Ctx, caller: Caller, fileId: FromPath[str]) -> Ok[list[VersionOut]]:
    """Every confirmed version, newest first."""
    file = parse_uuid(fileId, "fileId")
    return ok(await actions.list_versions(ctx, caller_id(caller), file))


@get("/api/storage/files/{fileId:str}/versions/{version:int}/download")
async def download_version(
    ctx: Ctx, caller: Caller, fileId: FromPath[str], version: VersionNumber
) -> Ok[DownloadOut]:
    file = parse_uuid(fileId, "fileId")
    return ok(await actions.version_download_url(ctx, caller_id(caller), file, version))


@post("/api/storage/files/{fileId:str}/versions/{version:int}/restore", status_code=200)
async def restore_version(
    ctx: Ctx, caller: Caller, fileId: FromPath[str], version: VersionNumber
) -> Ok[FileOut]:
    """An older version becomes the current one again."""
    file = parse_uuid(fileId, "fileId")
    return ok(await actions.do_restore_version(ctx, caller_id(caller), file, version))


@get("/api/storage/files/folder/{folderId:str}")
async def files_of_folder(
    ctx: Ctx,
    caller: Caller,
    folderId: FromPath[str],
    page: FromQuery[int | None] = None,
    pageSize: FromQuery[int | None] = None,
) -> Ok[FileListOut]:
    folder = parse_uuid(folderId, "folderId")
    chosen, size = paging(page, pageSize, 50)
    me = caller_id(caller)
    return ok(await listings.files_of_folder(ctx, me, folder, page=chosen, page_size=size))


@get("/api/storage/files/workspace/{workspaceId:str}/root")
async def root_files(
    ctx: Ctx,
    caller: Caller,
    *,
    workspaceId: FromPath[str],
    page: FromQuery[int | None] = None,
    pageSize: FromQuery[int | None] = None,
    projectId: FromQuery[str | None] = None,
) -> Ok[FileListOut]:
    """Files at the root of the workspace's drive (or of the shared drive ``projectId``)."""
    workspace = parse_uuid(workspaceId, "workspaceId")
    project = parse_uuid(projectId, "projectId") if projectId else None
    chosen, size = paging(page, pageSize, 50)
    found = await listings.root_files(
        ctx, caller_id(caller), workspace, project, page=chosen, page_size=size
    )
    return ok(found)


@get("/api/storage/workspaces/{workspaceId:str}/files")
async def workspace_files(
    ctx: Ctx,
    caller: Caller,
    *,
    workspaceId: FromPath[str],
    page: FromQuery[int | None] = None,
    pageSize: FromQuery[int | None] = None,
    cursor: FromQuery[str | None] = None,
) -> Ok[FileListOut]:
    """Newest first: by ``page``, or from ``cursor`` (the previous reply's ``nextCursor``)."""
    workspace = parse_uuid(workspaceId, "workspaceId")
    chosen, size = paging(page, pageSize)
    found = await listings.workspace_files(
        ctx, caller_id(caller), workspace, page=chosen, page_size=size, cursor=cursor
    )
    return ok(found)


@get("/api/storage/workspaces/{workspaceId:str}/files/search")
async def search(
    ctx: Ctx,
    caller: Caller,
    *,
    workspaceId: FromPath[str],
    q: FromQuery[str | None] = None,
    text: Annotated[str | None, QueryParameter(name="query")] = None,
    type: FromQuery[Literal["all", "file", "folder"]] = "all",  # noqa: A002  # the contract's
    page: FromQuery[int | None] = None,
    pageSize: FromQuery[int | None] = None,
) -> Ok[SearchOut]:
    """Files and folders whose name contains ``q`` (the frontend sends ``query``)."""
    workspace = parse_uuid(workspaceId, "workspaceId")
    wanted = (q or text or "").strip()
    if not wanted or len(wanted) > 255:
        raise ValidationFailed("q: the text to search for (1..255 characters)")
    chosen, size = paging(page, pageSize)
    found = await listings.search(
        ctx, caller_id(caller), workspace, wanted, type, page=chosen, page_size=size
    )
    return ok(found)


@get("/api/storage/workspaces/{workspaceId:str}/usage")
async def usage(ctx: Ctx, caller: Caller, workspaceId: FromPath[str]) -> Ok[UsageOut]:
    """What the workspace stores, and its quota."""
    workspace = parse_uuid(workspaceId, "workspaceId")
    return ok(await listings.usage(ctx, caller_id(caller), workspace))


@get("/api/storage/workspaces/{workspaceId:str}/trash/files")
async def trashed_files(
    ctx: Ctx,
    caller: Caller,
    workspaceId: FromPath[str],
    limit: Limit = 100,
    cursor: FromQuery[str | None] = None,
) -> Response[Ok[list[FileOut]]]:
    """Files in the trash that the caller may restore, newest first."""
    workspace = parse_uuid(workspaceId, "workspaceId")
    found, following = await listings.trashed_files(
        ctx, caller_id(caller), workspace, limit=limit, cursor=cursor
    )
    return cursor_page(found, following)


@delete("/api/storage/trash/workspace/{workspaceId:str}/empty", status_code=200)
async def empty_trash(
    ctx: Ctx, caller: Caller, workspaceId: FromPath[str]
) -> DoneWith[EmptyTrashOut]:
    """Everything in the trash the caller may restore, for good."""
    workspace = parse_uuid(workspaceId, "workspaceId")
    emptied = await listings.do_empty_trash(ctx, caller_id(caller), workspace)
    return DoneWith("Trash emptied", emptied)


ROUTES = [
    upload_url,
    confirm_upload,
    get_file,
    download_file,
    update_file,
    trash_file,
    restore_file,
    purge_file,
    version_upload_url,
    list_versions,
    download_version,
    restore_version,
    files_of_folder,
    root_files,
    workspace_files,
    search,
    usage,
    trashed_files,
    empty_trash,
]
