"""HTTP routes of the user service (thin: parse, call one action, shape the reply).

Paths and shapes are the original weAlist user service's (contract section 4), plus the
approve/reject paths its frontend calls (13.2) and the internal membership answer.
"""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from litestar import Response, delete, get, post, put
from litestar.params import FromPath, HeaderParameter, JSONBody, Parameter
from litestar.types import ControllerRouterHandler

from wealist.contracts.membership import Directory, DirectoryRequest, Membership
from wealist.core.deps import Caller, Ctx, Internal
from wealist.user.actions import images, join_requests, members, profiles, users, workspaces
from wealist.user.actions.common import caller_id, parse_uuid
from wealist.user.schemas import (
    AttachmentOut,
    ChangeRole,
    ConfirmImage,
    CreateProfile,
    CreateUser,
    CreateWorkspace,
    ImageUploadRequest,
    ImageUploadUrl,
    Invite,
    JoinRequestCreate,
    JoinRequestDecision,
    JoinRequestOut,
    MemberCheck,
    MemberOut,
    Message,
    MyWorkspaceOut,
    OAuthLogin,
    OAuthLoginResult,
    ProfileOut,
    SaveAttachment,
    SetDefault,
    SettingsOut,
    UpdateProfile,
    UpdateSettings,
    UpdateUser,
    UpdateWorkspace,
    UserExists,
    UserOut,
    WorkspaceOut,
)

__all__ = ("ROUTES",)

# Path parameters keep the contract's camelCase names.
# ruff: noqa: N803

WorkspaceHeader = Annotated[
    str | None,
    HeaderParameter(name="X-Workspace-Id", description="the workspace a profile route acts on"),
]


def _header_workspace(raw: str | None) -> UUID | None:
    return None if raw is None or raw == "" else parse_uuid(raw, "X-Workspace-Id")


# --- internal (internal key; blocked at the gateway) ------------------------------------


@post("/api/internal/oauth/login", status_code=200)
async def oauth_login(ctx: Ctx, internal: Internal, data: JSONBody[OAuthLogin]) -> OAuthLoginResult:
    """Find or create the user for a verified email (called by the auth service)."""
    return OAuthLoginResult(user_id=await users.do_oauth_login(ctx, data))


@get("/api/internal/users/{userId:str}/exists")
async def user_exists(ctx: Ctx, internal: Internal, userId: FromPath[str]) -> UserExists:
    """Whether the user exists and is active."""
    user_id = parse_uuid(userId, "userId")
    return UserExists(exists=await users.check_user_exists(ctx, user_id))


@get("/api/internal/workspaces/{workspaceId:str}/members/{userId:str}")
async def internal_membership(
    ctx: Ctx, internal: Internal, workspaceId: FromPath[str], userId: FromPath[str]
) -> Membership:
    """Whether the user is an active member, and their role (also cached in Redis)."""
    return await workspaces.get_membership(
        ctx, parse_uuid(workspaceId, "workspaceId"), parse_uuid(userId, "userId")
    )


@post("/api/internal/workspaces/{workspaceId:str}/directory", status_code=200)
async def internal_directory(
    ctx: Ctx, internal: Internal, workspaceId: FromPath[str], data: JSONBody[DirectoryRequest]
) -> Directory:
    """The workspace's name and how the given users appear in it (other services' names)."""
    return await workspaces.get_directory(ctx, parse_uuid(workspaceId, "workspaceId"), data)


@post("/api/users", status_code=201)
async def create_user(ctx: Ctx, internal: Internal, data: JSONBody[CreateUser]) -> UserOut:
    """Create a user (internal key only: accounts come from sign-in)."""
    return await users.do_create_user(ctx, data)


@put("/api/users/{userId:str}/restore")
async def restore_user(ctx: Ctx, internal: Internal, userId: FromPath[str]) -> UserOut:
    """Undo a soft delete (internal key only: an operator's action)."""
    return await users.do_restore_user(ctx, parse_uuid(userId, "userId"))


# --- users ------------------------------------------------------------------------------


@get("/api/users/me")
async def get_me(ctx: Ctx, caller: Caller) -> UserOut:
    return await users.get_me(ctx, caller_id(caller))


@delete("/api/users/me", status_code=200)
async def delete_me(ctx: Ctx, caller: Caller) -> Message:
    """Soft-delete the caller's account (after they deleted the workspaces they own)."""
    await users.do_delete_me(ctx, caller_id(caller))
    return Message("user deleted")


@get("/api/users/{userId:str}")
async def get_user(ctx: Ctx, caller: Caller, userId: FromPath[str]) -> UserOut:
    """A user the caller shares a workspace with (or the caller)."""
    return await users.get_user(ctx, caller_id(caller), parse_uuid(userId, "userId"))


@put("/api/users/{userId:str}")
async def update_user(
    ctx: Ctx, caller: Caller, userId: FromPath[str], data: JSONBody[UpdateUser]
) -> UserOut:
    return await users.do_update_user(ctx, caller_id(caller), parse_uuid(userId, "userId"), data)


# --- workspaces -------------------------------------------------------------------------


@post("/api/workspaces/create", status_code=201)
async def create_workspace(
    ctx: Ctx, caller: Caller, data: JSONBody[CreateWorkspace]
) -> WorkspaceOut:
    return await workspaces.do_create_workspace(ctx, caller_id(caller), data)


@get("/api/workspaces/all")
async def my_workspaces(ctx: Ctx, caller: Caller) -> list[MyWorkspaceOut]:
    """The workspaces the caller is an active member of."""
    return await workspaces.list_my_workspaces(ctx, caller_id(caller))


@get("/api/workspaces/public/{workspaceName:str}")
async def search_public(
    ctx: Ctx, caller: Caller, workspaceName: FromPath[str]
) -> list[WorkspaceOut]:
    """Public workspaces whose name contains the text (at most 20)."""
    return await workspaces.search_public(ctx, workspaceName)


@get("/api/workspaces/{workspaceId:str}")
async def get_workspace(ctx: Ctx, caller: Caller, workspaceId: FromPath[str]) -> WorkspaceOut:
    return await workspaces.get_workspace(
        ctx, caller_id(caller), parse_uuid(workspaceId, "workspaceId")
    )


@put("/api/workspaces/ids/{workspaceId:str}")
async def update_workspace(
    ctx: Ctx, caller: Caller, workspaceId: FromPath[str], data: JSONBody[UpdateWorkspace]
) -> WorkspaceOut:
    return await workspaces.do_update_workspace(
        ctx, caller_id(caller), parse_uuid(workspaceId, "workspaceId"), data
    )


@delete("/api/workspaces/{workspaceId:str}", status_code=200)
async def delete_workspace(ctx: Ctx, caller: Caller, workspaceId: FromPath[str]) -> Message:
    """Delete the workspace (its OWNER only)."""
    await workspaces.do_delete_workspace(
        ctx, caller_id(caller), parse_uuid(workspaceId, "workspaceId")
    )
    return Message("workspace deleted")


@post("/api/workspaces/default", status_code=200)
async def set_default(ctx: Ctx, caller: Caller, data: JSONBody[SetDefault]) -> Message:
    await workspaces.do_set_default(ctx, caller_id(caller), data.workspace_id)
    return Message("default workspace set")


@get("/api/workspaces/{workspaceId:str}/settings")
async def get_settings(ctx: Ctx, caller: Caller, workspaceId: FromPath[str]) -> SettingsOut:
    return await workspaces.get_settings(
        ctx, caller_id(caller), parse_uuid(workspaceId, "workspaceId")
    )


@put("/api/workspaces/{workspaceId:str}/settings")
async def update_settings(
    ctx: Ctx, caller: Caller, workspaceId: FromPath[str], data: JSONBody[UpdateSettings]
) -> SettingsOut:
    return await workspaces.do_update_settings(
        ctx, caller_id(caller), parse_uuid(workspaceId, "workspaceId"), data
    )


@get("/api/workspaces/{workspaceId:str}/validate-member/{userId:str}")
async def validate_member(
    ctx: Ctx, caller: Caller, workspaceId: FromPath[str], userId: FromPath[str]
) -> MemberCheck:
    """Whether the user is an active member (asked by a member, or about oneself)."""
    return await workspaces.check_member(
        ctx,
        caller_id(caller),
        parse_uuid(workspaceId, "workspaceId"),
        parse_uuid(userId, "userId"),
    )


# --- members ----------------------------------------------------------------------------


@get("/api/workspaces/{workspaceId:str}/members")
async def list_members(
    ctx: Ctx,
    caller: Caller,
    workspaceId: FromPath[str],
    limit: Annotated[int, Parameter(ge=1, le=members.MEMBERS_PAGE_MAX)] = members.MEMBERS_PAGE_MAX,
    cursor: Annotated[str | None, Parameter(max_length=200)] = None,
) -> Response[list[MemberOut]]:
    """Active members in join order. A full page carries ``X-Next-Cursor``; pass it back
    as ``cursor`` for the next one (additive: without parameters, up to 1000 members)."""
    page, following = await members.list_members(
        ctx,
        caller_id(caller),
        parse_uuid(workspaceId, "workspaceId"),
        limit=limit,
        cursor=cursor,
    )
    headers = {"X-Next-Cursor": following} if following else {}
    return Response(page, headers=headers)


@post("/api/workspaces/{workspaceId:str}/members/invite", status_code=201)
async def invite(
    ctx: Ctx, caller: Caller, workspaceId: FromPath[str], data: JSONBody[Invite]
) -> MemberOut:
    return await members.do_invite(
        ctx, caller_id(caller), parse_uuid(workspaceId, "workspaceId"), data
    )


@put("/api/workspaces/{workspaceId:str}/members/{memberId:str}/role")
async def change_role(
    ctx: Ctx,
    caller: Caller,
    workspaceId: FromPath[str],
    memberId: FromPath[str],
    data: JSONBody[ChangeRole],
) -> MemberOut:
    """Change a member's role; ``memberId`` is the membership id (or the user id)."""
    return await members.do_change_role(
        ctx,
        caller_id(caller),
        parse_uuid(workspaceId, "workspaceId"),
        parse_uuid(memberId, "memberId"),
        data,
    )


@delete("/api/workspaces/{workspaceId:str}/members/{memberId:str}", status_code=200)
async def remove_member(
    ctx: Ctx, caller: Caller, workspaceId: FromPath[str], memberId: FromPath[str]
) -> Message:
    """Remove a member, or leave (``memberId`` is the membership id or the user id)."""
    await members.do_remove_member(
        ctx,
        caller_id(caller),
        parse_uuid(workspaceId, "workspaceId"),
        parse_uuid(memberId, "memberId"),
    )
    return Message("member removed")


# --- join requests ----------------------------------------------------------------------


@post("/api/workspaces/join-requests", status_code=201)
async def request_to_join(
    ctx: Ctx, caller: Caller, data: JSONBody[JoinRequestCreate]
) -> JoinRequestOut:
    return await join_requests.do_request_to_join(ctx, caller_id(caller), data.workspace_id)


@get(
    [
        "/api/workspaces/{workspaceId:str}/joinRequests",
        "/api/workspaces/{workspaceId:str}/pendingMembers",
    ]
)
async def pending_requests(
    ctx: Ctx, caller: Caller, workspaceId: FromPath[str]
) -> list[JoinRequestOut]:
    """PENDING join requests (OWNER or ADMIN)."""
    return await join_requests.list_pending(
        ctx, caller_id(caller), parse_uuid(workspaceId, "workspaceId")
    )


@put("/api/workspaces/{workspaceId:str}/joinRequests/{requestId:str}")
async def decide_request(
    ctx: Ctx,
    caller: Caller,
    workspaceId: FromPath[str],
    requestId: FromPath[str],
    data: JSONBody[JoinRequestDecision],
) -> JoinRequestOut:
    """Approve or reject a join request (``status``: APPROVED or REJECTED)."""
    return await join_requests.do_decide(
        ctx,
        caller_id(caller),
        parse_uuid(workspaceId, "workspaceId"),
        parse_uuid(requestId, "requestId"),
        data.status,
    )


@post("/api/workspaces/{workspaceId:str}/members/{userId:str}/approve", status_code=200)
async def approve_user(
    ctx: Ctx, caller: Caller, workspaceId: FromPath[str], userId: FromPath[str]
) -> JoinRequestOut:
    """Approve the pending join request of a user (the path the frontend calls)."""
    return await join_requests.do_decide(
        ctx,
        caller_id(caller),
        parse_uuid(workspaceId, "workspaceId"),
        parse_uuid(userId, "userId"),
        "APPROVED",
    )


@post("/api/workspaces/{workspaceId:str}/members/{userId:str}/reject", status_code=200)
async def reject_user(
    ctx: Ctx, caller: Caller, workspaceId: FromPath[str], userId: FromPath[str]
) -> JoinRequestOut:
    """Reject the pending join request of a user (the path the frontend calls)."""
    return await join_requests.do_decide(
        ctx,
        caller_id(caller),
        parse_uuid(workspaceId, "workspaceId"),
        parse_uuid(userId, "userId"),
        "REJECTED",
    )


# --- profiles ---------------------------------------------------------------------------


@post("/api/profiles", status_code=201)
async def create_profile(ctx: Ctx, caller: Caller, data: JSONBody[CreateProfile]) -> ProfileOut:
    return await profiles.do_create_profile(ctx, caller_id(caller), data)


@get("/api/profiles/me")
async def my_profile(ctx: Ctx, caller: Caller, workspace: WorkspaceHeader = None) -> ProfileOut:
    """The caller's profile in the header's workspace, else their default profile."""
    return await profiles.get_my_profile(ctx, caller_id(caller), _header_workspace(workspace))


@get("/api/profiles/all/me")
async def my_profiles(ctx: Ctx, caller: Caller) -> list[ProfileOut]:
    return await profiles.list_my_profiles(ctx, caller_id(caller))


@put("/api/profiles/me")
async def update_my_profile(
    ctx: Ctx, caller: Caller, data: JSONBody[UpdateProfile], workspace: WorkspaceHeader = None
) -> ProfileOut:
    """Create or change the caller's profile in the header's workspace (or the default)."""
    return await profiles.do_update_my_profile(
        ctx, caller_id(caller), _header_workspace(workspace), data
    )


@get("/api/profiles/workspace/{workspaceId:str}/user/{userId:str}")
async def member_profile(
    ctx: Ctx, caller: Caller, workspaceId: FromPath[str], userId: FromPath[str]
) -> ProfileOut:
    return await profiles.get_profile(
        ctx,
        caller_id(caller),
        parse_uuid(workspaceId, "workspaceId"),
        parse_uuid(userId, "userId"),
    )


@delete("/api/profiles/workspace/{workspaceId:str}", status_code=200)
async def delete_profile(ctx: Ctx, caller: Caller, workspaceId: FromPath[str]) -> Message:
    await profiles.do_delete_profile(ctx, caller_id(caller), parse_uuid(workspaceId, "workspaceId"))
    return Message("profile deleted")


@post("/api/profiles/me/image/presigned-url", status_code=200)
async def presign_image(
    ctx: Ctx, caller: Caller, data: JSONBody[ImageUploadRequest]
) -> ImageUploadUrl:
    """Step 1: a URL to PUT the image to, bound to its type and exact size."""
    return await images.do_presign_image(ctx, caller_id(caller), data)


@post("/api/profiles/me/image/attachment", status_code=201)
async def save_attachment(
    ctx: Ctx, caller: Caller, data: JSONBody[SaveAttachment]
) -> AttachmentOut:
    """Step 2: the upload is done; it is checked (size, type, first bytes)."""
    return await images.do_save_attachment(ctx, caller_id(caller), data)


@put("/api/profiles/me/image")
async def confirm_image(
    ctx: Ctx, caller: Caller, data: JSONBody[ConfirmImage], workspace: WorkspaceHeader = None
) -> ProfileOut:
    """Step 3: the image becomes the profile's in the header's workspace."""
    return await images.do_confirm_image(
        ctx, caller_id(caller), _header_workspace(workspace), data.attachment_id
    )


ROUTES: list[ControllerRouterHandler] = [
    oauth_login,
    user_exists,
    internal_membership,
    internal_directory,
    create_user,
    restore_user,
    get_me,
    delete_me,
    get_user,
    update_user,
    create_workspace,
    my_workspaces,
    search_public,
    get_workspace,
    update_workspace,
    delete_workspace,
    set_default,
    get_settings,
    update_settings,
    validate_member,
    list_members,
    invite,
    change_role,
    remove_member,
    request_to_join,
    pending_requests,
    decide_request,
    approve_user,
    reject_user,
    create_profile,
    my_profile,
    my_profiles,
    update_my_profile,
    member_profile,
    delete_profile,
    presign_image,
    save_attachment,
    confirm_image,
]
