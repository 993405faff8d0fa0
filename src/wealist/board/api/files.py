"""Attachment and field-option routes."""

from __future__ import annotations

from litestar import delete, get, patch, post
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.response import Redirect
from litestar.types import ControllerRouterHandler

from wealist.board.actions import attachments, options
from wealist.board.actions.common import caller_id, parse_uuid
from wealist.board.schemas.attachments import (
    AttachmentOut,
    PresignUpload,
    RegisterUpload,
    UploadUrl,
)
from wealist.board.schemas.common import MessageOut
from wealist.board.schemas.options import CreateOption, FieldType, OptionOut, UpdateOption
from wealist.core.deps import Caller, Ctx
from wealist.core.envelopes import Data, reply

# ruff: noqa: N803


@post("/api/attachments/presigned-url", status_code=200)
async def presign(ctx: Ctx, caller: Caller, data: JSONBody[PresignUpload]) -> Data[UploadUrl]:
    """Step 1 of an upload: a URL that accepts a PUT of exactly this type and size."""
    return reply(await attachments.do_presign(ctx, caller_id(caller), data))


@post("/api/attachments", status_code=201)
async def register(ctx: Ctx, caller: Caller, data: JSONBody[RegisterUpload]) -> Data[AttachmentOut]:
    """Step 2: the upload is there; attach it with ``attachmentIds`` (step 3)."""
    return reply(await attachments.do_register(ctx, caller_id(caller), data))


@delete("/api/attachments/{attachmentId:str}", status_code=200)
async def delete_attachment(
    ctx: Ctx, caller: Caller, attachmentId: FromPath[str]
) -> Data[MessageOut]:
    attachment = parse_uuid(attachmentId, "attachmentId")
    await attachments.do_delete_attachment(ctx, caller_id(caller), attachment)
    return reply(MessageOut("attachment deleted"))


@get("/api/attachments/{attachmentId:str}/download", status_code=302)
async def download(ctx: Ctx, caller: Caller, attachmentId: FromPath[str]) -> Redirect:
    """A redirect to a short-lived download URL of the file (the frontend calls this)."""
    attachment = parse_uuid(attachmentId, "attachmentId")
    url = await attachments.download_url(ctx, caller_id(caller), attachment)
    return Redirect(url, status_code=302, headers={"Cache-Control": "no-store"})


@get("/api/field-options")
async def list_options(
    ctx: Ctx,
    caller: Caller,
    fieldType: FromQuery[FieldType | None] = None,
    projectId: FromQuery[str | None] = None,
) -> Data[list[OptionOut]]:
    """A project's options (``projectId``); without it, those of the caller's projects."""
    project = parse_uuid(projectId, "projectId") if projectId else None
    return reply(await options.list_options(ctx, caller_id(caller), project, fieldType))


@post("/api/field-options", status_code=201)
async def create_option(ctx: Ctx, caller: Caller, data: JSONBody[CreateOption]) -> Data[OptionOut]:
    return reply(await options.do_create_option(ctx, caller_id(caller), data))


@patch("/api/field-options/{optionId:str}")
async def update_option(
    ctx: Ctx, caller: Caller, optionId: FromPath[str], data: JSONBody[UpdateOption]
) -> Data[OptionOut]:
    option = parse_uuid(optionId, "optionId")
    return reply(await options.do_update_option(ctx, caller_id(caller), option, data))


@delete("/api/field-options/{optionId:str}", status_code=200)
async def delete_option(ctx: Ctx, caller: Caller, optionId: FromPath[str]) -> Data[MessageOut]:
    await options.do_delete_option(ctx, caller_id(caller), parse_uuid(optionId, "optionId"))
    return reply(MessageOut("field option deleted"))


ROUTES: list[ControllerRouterHandler] = [
    presign,
    register,
    delete_attachment,
    download,
    list_options,
    create_option,
    update_option,
    delete_option,
]
