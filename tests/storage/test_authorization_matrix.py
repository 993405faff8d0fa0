"""Every storage route crossed with {the drive's OWNER, an EDITOR, a VIEWER, a workspace
member without access to the drive, a member holding a share of the folder, an admin of
another workspace, anonymous}: each cell's status is asserted, and nobody outside
workspace A sees its data. A route without a row fails ``test_every_route_has_a_row``.

The world: a private drive of A's owner (the admin is its EDITOR, "viewer" its VIEWER);
in it folder F holding file X and a trashed file T, and a trashed folder TF; F is shared
(VIEWER) with "holder"; X has a public link. Runs on the local backend, whose signed-URL
routes are rows too.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import pytest

from tests.plugins.authz import Case, Setup, at, check_case, check_routes_covered
from tests.plugins.harness import TokenIssuer
from tests.storage.support import Drive, data
from tests.user.support import Actor, World, build_world, invite, sign_up

ACTORS = ("owner", "editor", "viewer", "ws_member", "holder", "other_admin", "anonymous")

READ = (200, 200, 200, 404, 200, 404, 401)  # VIEW on F and X (the holder through the share)
WRITE = (200, 200, 403, 404, 403, 404, 401)  # EDIT on F and X
TRASHED = (200, 200, 403, 404, 403, 404, 401)  # EDIT on T (inside F)
TRASHED_ROOT = (200, 200, 403, 404, 404, 404, 401)  # EDIT on TF (outside F: no share)
DRIVE_READ = (200, 200, 200, 404, 404, 404, 401)  # the drive itself (no share reaches it)
DRIVE_WRITE = (200, 200, 403, 404, 404, 404, 401)
WORKSPACE = (200, 200, 200, 200, 200, 404, 401)  # any member of A (lists are filtered)
SIGNED_IN = (200, 200, 200, 200, 200, 200, 401)
ANYONE = (200, 200, 200, 200, 200, 200, 200)


@dataclass
class StorageWorld(World):
    viewer: Actor | None = None
    holder: Actor | None = None

    def actors(self) -> dict[str, Actor]:
        assert self.viewer is not None and self.holder is not None
        found = super().actors()
        found.update(
            editor=self.admin, viewer=self.viewer, ws_member=self.member, holder=self.holder
        )
        return found


async def new_world(users: Any, issuer: TokenIssuer) -> StorageWorld:
    base = await build_world(users, issuer)
    extra = {}
    for tag in ("viewer", "holder"):
        actor = await sign_up(users, issuer, tag)
        assert (await invite(users, base.owner, base.a, actor)).status_code == 201
        extra[tag] = actor
    return StorageWorld(**vars(base), **extra)


async def a_drive(clients: Any, world: StorageWorld) -> Setup:
    drive: Drive = clients
    owner = world.owner
    project = await drive.project(owner, world.a, "Alpha private")
    for who, permission in ((world.admin, "EDITOR"), (world.viewer, "VIEWER")):
        assert who is not None
        added = await drive.client.post(
            f"/api/storage/projects/{project['id']}/members",
            json={"userId": who.user_id, "permission": permission},
            headers=owner.headers,
        )
        assert added.status_code == 201, added.text
    folder = await drive.folder(owner, world.a, "F", projectId=project["id"])
    trashed_folder = await drive.folder(owner, world.a, "TF", projectId=project["id"])
    file = await drive.upload(owner, world.a, "x.txt", b"x marks", folderId=folder["id"])
    trashed = await drive.upload(owner, world.a, "t.txt", b"trash", folderId=folder["id"])
    for path in (
        f"/api/storage/files/{trashed['id']}",
        f"/api/storage/folders/{trashed_folder['id']}",
    ):
        assert (await drive.client.delete(path, headers=owner.headers)).status_code == 200
    assert world.holder is not None
    shared = data(
        await drive.client.post(
            "/api/storage/shares",
            json={
                "entityType": "FOLDER",
                "entityId": folder["id"],
                "sharedWithId": world.holder.user_id,
                "permission": "VIEWER",
            },
            headers=owner.headers,
        ),
        201,
    )
    link = data(
        await drive.client.post(
            "/api/storage/shares",
            json={
                "entityType": "FILE",
                "entityId": file["id"],
                "isPublic": True,
                "permission": "VIEWER",
            },
            headers=owner.headers,
        ),
        201,
    )
    pending = data(await drive.issue(owner, world.a, "p.txt", 3, folderId=folder["id"]))
    store = drive.ctx.blobs
    blob_put = await drive.on_app(
        functools.partial(
            store.presign_upload, f"tests/{file['id']}", content_type="", size=0, expires_s=60
        )
    )
    blob_get = await drive.on_app(
        functools.partial(
            store.presign_download,
            data(await drive.client.get(f"/api/storage/files/{file['id']}", headers=owner.headers))[
                "fileUrl"
            ].split("/api/blobs/")[1],
            expires_s=60,
        )
    )
    return Setup(
        {
            "project": project["id"],
            "folder": folder["id"],
            "trashed_folder": trashed_folder["id"],
            "file": file["id"],
            "trashed": trashed["id"],
            "share": shared["id"],
            "link": link["shareLink"],
            "pending": pending["fileId"],
            "ws_member": world.member.user_id,
            "viewer": world.viewer.user_id if world.viewer else "",
            "blob_put": blob_put,
            "blob_get": blob_get,
        }
    )


def case(
    method: str, route: str, expect: tuple[int, ...], path: str, body: Any = None, **kw: Any
) -> Case:
    return Case(method, route, expect, at(path, body), prepare=a_drive, **kw)


S = "/api/storage"
CASES = [
    # drives
    case(
        "POST",
        f"{S}/projects",
        (201, 201, 201, 201, 201, 404, 401),
        f"{S}/projects",
        lambda v: {"workspaceId": v["a"], "name": "Another"},
    ),
    case("GET", f"{S}/projects/{{projectId}}", DRIVE_READ, f"{S}/projects/{{project}}"),
    case(
        "PUT",
        f"{S}/projects/{{projectId}}",
        DRIVE_WRITE,
        f"{S}/projects/{{project}}",
        {"description": "changed"},
    ),
    case(
        "DELETE",
        f"{S}/projects/{{projectId}}",
        (204, 403, 403, 404, 404, 404, 401),
        f"{S}/projects/{{project}}",
        fresh=True,
    ),
    case(
        "GET",
        f"{S}/projects/{{projectId}}/my-permission",
        DRIVE_READ,
        f"{S}/projects/{{project}}/my-permission",
    ),
    case("GET", f"{S}/projects/{{projectId}}/stats", DRIVE_READ, f"{S}/projects/{{project}}/stats"),
    case(
        "POST",
        f"{S}/projects/{{projectId}}/members",
        (201, 201, 403, 404, 404, 404, 401),
        f"{S}/projects/{{project}}/members",
        lambda v: {"userId": v["ws_member"], "permission": "VIEWER"},
        fresh=True,
    ),
    case(
        "GET",
        f"{S}/projects/{{projectId}}/members",
        DRIVE_READ,
        f"{S}/projects/{{project}}/members",
    ),
    case(
        "PUT",
        f"{S}/projects/{{projectId}}/members/{{userId}}",
        (200, 403, 403, 404, 404, 404, 401),
        f"{S}/projects/{{project}}/members/{{viewer}}",
        {"permission": "VIEWER"},
    ),
    case(
        "DELETE",
        f"{S}/projects/{{projectId}}/members/{{userId}}",
        (204, 403, 204, 404, 404, 404, 401),
        f"{S}/projects/{{project}}/members/{{viewer}}",
        fresh=True,
    ),
    case(
        "GET",
        f"{S}/workspaces/{{workspaceId}}/projects",
        WORKSPACE,
        f"{S}/workspaces/{{a}}/projects",
    ),
    # folders
    case(
        "POST",
        f"{S}/folders",
        (201, 201, 403, 404, 403, 404, 401),
        f"{S}/folders",
        lambda v: {"workspaceId": v["a"], "parentId": v["folder"], "name": "sub"},
    ),
    case(
        "GET",
        f"{S}/folders/contents",
        READ,
        f"{S}/folders/contents?workspaceId={{a}}&folderId={{folder}}",
    ),
    case("GET", f"{S}/folders/{{folderId}}", READ, f"{S}/folders/{{folder}}"),
    case(
        "PUT", f"{S}/folders/{{folderId}}", WRITE, f"{S}/folders/{{folder}}", {"color": "#112233"}
    ),
    case("DELETE", f"{S}/folders/{{folderId}}", WRITE, f"{S}/folders/{{folder}}", fresh=True),
    case(
        "POST",
        f"{S}/folders/{{folderId}}/restore",
        TRASHED_ROOT,
        f"{S}/folders/{{trashed_folder}}/restore",
        fresh=True,
    ),
    case(
        "DELETE",
        f"{S}/folders/{{folderId}}/permanent",
        TRASHED_ROOT,
        f"{S}/folders/{{trashed_folder}}/permanent",
        fresh=True,
    ),
    case("GET", f"{S}/folders/{{folderId}}/shares", WRITE, f"{S}/folders/{{folder}}/shares"),
    case(
        "GET", f"{S}/workspaces/{{workspaceId}}/folders", WORKSPACE, f"{S}/workspaces/{{a}}/folders"
    ),
    case(
        "GET",
        f"{S}/workspaces/{{workspaceId}}/trash/folders",
        WORKSPACE,
        f"{S}/workspaces/{{a}}/trash/folders",
    ),
    # files
    case(
        "POST",
        f"{S}/files/upload-url",
        WRITE,
        f"{S}/files/upload-url",
        lambda v: {
            "workspaceId": v["a"],
            "folderId": v["folder"],
            "fileName": "n.txt",
            "contentType": "text/plain",
            "fileSize": 1,
        },
    ),
    case(
        "POST",
        f"{S}/files/confirm",
        (409, 404, 404, 404, 404, 404, 401),
        f"{S}/files/confirm",
        lambda v: {"fileId": v["pending"]},
    ),
    case("GET", f"{S}/files/{{fileId}}", READ, f"{S}/files/{{file}}"),
    case("GET", f"{S}/files/{{fileId}}/download", READ, f"{S}/files/{{file}}/download"),
    case("PUT", f"{S}/files/{{fileId}}", WRITE, f"{S}/files/{{file}}", {"name": "renamed.txt"}),
    case("DELETE", f"{S}/files/{{fileId}}", WRITE, f"{S}/files/{{file}}", fresh=True),
    case(
        "POST",
        f"{S}/files/{{fileId}}/restore",
        TRASHED,
        f"{S}/files/{{trashed}}/restore",
        fresh=True,
    ),
    case(
        "DELETE",
        f"{S}/files/{{fileId}}/permanent",
        TRASHED,
        f"{S}/files/{{trashed}}/permanent",
        fresh=True,
    ),
    case("GET", f"{S}/files/{{fileId}}/shares", WRITE, f"{S}/files/{{file}}/shares"),
    case(
        "POST",
        f"{S}/files/{{fileId}}/versions/upload-url",
        WRITE,
        f"{S}/files/{{file}}/versions/upload-url",
        {"contentType": "text/plain", "fileSize": 2},
    ),
    case("GET", f"{S}/files/{{fileId}}/versions", READ, f"{S}/files/{{file}}/versions"),
    case(
        "GET",
        f"{S}/files/{{fileId}}/versions/{{version}}/download",
        READ,
        f"{S}/files/{{file}}/versions/1/download",
    ),
    case(
        "POST",
        f"{S}/files/{{fileId}}/versions/{{version}}/restore",
        WRITE,
        f"{S}/files/{{file}}/versions/1/restore",
    ),
    case("GET", f"{S}/files/folder/{{folderId}}", READ, f"{S}/files/folder/{{folder}}"),
    case(
        "GET",
        f"{S}/files/workspace/{{workspaceId}}/root",
        WORKSPACE,
        f"{S}/files/workspace/{{a}}/root",
    ),
    case("GET", f"{S}/workspaces/{{workspaceId}}/files", WORKSPACE, f"{S}/workspaces/{{a}}/files"),
    case(
        "GET",
        f"{S}/workspaces/{{workspaceId}}/files/search",
        WORKSPACE,
        f"{S}/workspaces/{{a}}/files/search?q=x",
    ),
    case("GET", f"{S}/workspaces/{{workspaceId}}/usage", WORKSPACE, f"{S}/workspaces/{{a}}/usage"),
    case(
        "GET",
        f"{S}/workspaces/{{workspaceId}}/trash/files",
        WORKSPACE,
        f"{S}/workspaces/{{a}}/trash/files",
    ),
    case(
        "DELETE",
        f"{S}/trash/workspace/{{workspaceId}}/empty",
        WORKSPACE,
        f"{S}/trash/workspace/{{a}}/empty",
        fresh=True,
    ),
    # shares
    case(
        "POST",
        f"{S}/shares",
        (201, 201, 403, 404, 403, 404, 401),
        f"{S}/shares",
        lambda v: {
            "entityType": "FILE",
            "entityId": v["file"],
            "sharedWithId": v["ws_member"],
            "permission": "VIEWER",
        },
        fresh=True,
    ),
    case(
        "GET",
        f"{S}/shares/{{shareId}}",
        (200, 200, 403, 404, 200, 404, 401),
        f"{S}/shares/{{share}}",
    ),
    case(
        "PUT", f"{S}/shares/{{shareId}}", WRITE, f"{S}/shares/{{share}}", {"permission": "VIEWER"}
    ),
    case("DELETE", f"{S}/shares/{{shareId}}", WRITE, f"{S}/shares/{{share}}", fresh=True),
    case(
        "GET",
        f"{S}/shares/entity/{{entityType}}/{{entityId}}",
        WRITE,
        f"{S}/shares/entity/FOLDER/{{folder}}",
    ),
    case("GET", f"{S}/shared-with-me", SIGNED_IN, f"{S}/shared-with-me"),
    case("GET", f"{S}/shares/link/{{link}}", SIGNED_IN, f"{S}/shares/link/{{link}}"),
    # public links (the link is the permission) and the local store's signed URLs
    case(
        "GET",
        "/api/public/storage/shares/link/{link}",
        ANYONE,
        "/api/public/storage/shares/link/{link}",
    ),
    case(
        "GET",
        "/api/public/storage/share/{link}",
        ANYONE,
        "/api/public/storage/share/{link}",
        discloses=True,
    ),
    case(
        "POST",
        "/api/public/storage/share/{link}/download",
        ANYONE,
        "/api/public/storage/share/{link}/download",
        {},
        discloses=True,
    ),
    case("PUT", "/api/blobs/{key}", ANYONE, "{blob_put}"),
    case("GET", "/api/blobs/{key}", ANYONE, "{blob_get}"),
]


async def test_every_route_has_a_row(local_drive: Drive) -> None:
    check_routes_covered(local_drive.client.app, CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
async def test_matrix(local_drive: Drive, users: Any, issuer: TokenIssuer, case: Case) -> None:
    await check_case(
        local_drive.client,
        case,
        actors=ACTORS,
        new_world=lambda: new_world(users, issuer),
        clients=local_drive,
    )
