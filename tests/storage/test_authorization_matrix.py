"""Every storage route crossed with {the drive's OWNER (who made every object, and owns
workspace A), A's ADMIN (an EDITOR of the drive), a plain member who is an EDITOR, a
VIEWER, a workspace member without access to the drive, a member holding a share of the
folder, an admin of another workspace, anonymous}: each cell's status is asserted, nobody
outside workspace A sees its data, and every refused write leaves what it would change as
it was (each mutating row's ``state``). A route without a row fails
``test_every_route_has_a_row``.

The world: a private drive of A's owner (the admin and "editor" are its EDITORs, "viewer"
its VIEWER); in it folder F holding file X and a trashed file T, and a trashed folder TF;
F is shared (VIEWER) with "holder"; X has a public link. A share is changed or revoked
only by who shared it or A's OWNER/ADMIN: the rows on shares run on the owner's share
with the holder, the owner's public link, and a share the editor made. Runs on the local
backend, whose signed-URL routes are rows too; the app starts once for the module.
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import psycopg
import pytest
from psycopg import sql

from tests.authz.support import in_process
from tests.plugins.authz import Case, Setup, Stage, State, api, at, check_case, check_routes_covered
from tests.plugins.harness import Environment, TokenIssuer
from tests.storage.support import BASE, SECRET, Drive, data
from tests.user.support import Actor, World, build_world, invite, sign_up

ACTORS = (
    "owner",
    "admin",
    "editor",
    "viewer",
    "ws_member",
    "holder",
    "other_admin",
    "anonymous",
)

READ = (200, 200, 200, 200, 404, 200, 404, 401)  # VIEW on F and X (the holder: the share)
WRITE = (200, 200, 200, 403, 404, 403, 404, 401)  # EDIT on F and X
TRASHED = WRITE  # EDIT on T (inside F)
TRASHED_ROOT = (200, 200, 200, 403, 404, 404, 404, 401)  # EDIT on TF (outside F: no share)
DRIVE_READ = (200, 200, 200, 200, 404, 404, 404, 401)  # the drive itself (no share reaches it)
DRIVE_WRITE = (200, 200, 200, 403, 404, 404, 404, 401)
DRIVE_OWNER = (200, 403, 403, 403, 404, 404, 404, 401)
WORKSPACE = (200, 200, 200, 200, 200, 200, 404, 401)  # any member of A (lists are filtered)
SIGNED_IN = (200, 200, 200, 200, 200, 200, 200, 401)
ANYONE = (200,) * 8
# Changing or revoking a share: who shared it, or A's OWNER/ADMIN; 403 to whoever else may
# see it (an editor or viewer of the item, who it is shared with), else 404.
OWNERS_SHARE = (200, 200, 403, 403, 404, 403, 404, 401)
EDITORS_SHARE = (200, 200, 200, 403, 403, 403, 404, 401)  # shared with ws_member


@dataclass
class StorageWorld(World):
    editor: Actor | None = None
    viewer: Actor | None = None
    holder: Actor | None = None

    def actors(self) -> dict[str, Actor]:
        assert self.editor is not None and self.viewer is not None and self.holder is not None
        found = super().actors()
        found.update(
            editor=self.editor, viewer=self.viewer, ws_member=self.member, holder=self.holder
        )
        return found


@dataclass
class Clients:
    drive: Drive
    db: psycopg.AsyncConnection[Any]  # the storage database, for rows no API shows


async def new_world(users: Any, issuer: TokenIssuer) -> StorageWorld:
    base = await build_world(users, issuer)
    extra = {}
    for tag in ("editor", "viewer", "holder"):
        actor = await sign_up(users, issuer, tag)
        assert (await invite(users, base.owner, base.a, actor)).status_code == 201
        extra[tag] = actor
    return StorageWorld(**vars(base), **extra)


async def a_drive(clients: Clients, world: StorageWorld) -> Setup:
    drive = clients.drive
    owner = world.owner
    project = await drive.project(owner, world.a, "Alpha private")
    for who, permission in (
        (world.admin, "EDITOR"),
        (world.editor, "EDITOR"),
        (world.viewer, "VIEWER"),
    ):
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
            "link_share": link["id"],
            "link": link["shareLink"],
            "pending": pending["fileId"],
            "ws_member": world.member.user_id,
            "viewer": world.viewer.user_id if world.viewer else "",
            "blob_put": blob_put,
            "blob_get": blob_get,
        }
    )


async def with_editors_share(clients: Clients, world: StorageWorld) -> Setup:
    """The drive, and a share of X the (plain member) editor made with A's member."""
    setup = await a_drive(clients, world)
    assert world.editor is not None
    made = await clients.drive.client.post(
        "/api/storage/shares",
        json={
            "entityType": "FILE",
            "entityId": setup.values["file"],
            "sharedWithId": world.member.user_id,
            "permission": "VIEWER",
        },
        headers=world.editor.headers,
    )
    setup.values["editor_share"] = data(made, 201)["id"]
    return setup


async def rows_of_a(stage: Stage) -> Any:
    """Every storage row of workspace A: for what no API shows (unfinished uploads, a
    private drive of somebody else)."""
    db = stage.clients.db
    found = {}
    for table in (
        "storage_projects",
        "storage_folders",
        "storage_files",
        "storage_file_versions",
        "storage_shares",
    ):
        query = sql.SQL("SELECT to_jsonb(t)::text FROM {} t WHERE workspace_id = %s ORDER BY 1")
        cur = await db.execute(query.format(sql.Identifier(table)), (stage.world.a,))
        found[table] = [r[0] for r in await cur.fetchall()]
    cur = await db.execute(
        "SELECT to_jsonb(m)::text FROM storage_project_members m"
        " JOIN storage_projects p ON p.id = m.project_id WHERE p.workspace_id = %s ORDER BY 1",
        (stage.world.a,),
    )
    found["storage_project_members"] = [r[0] for r in await cur.fetchall()]
    return found


def case(
    method: str, route: str, expect: tuple[int, ...], path: str, body: Any = None, **kw: Any
) -> Case:
    kw.setdefault("prepare", a_drive)
    return Case(method, route, expect, at(path, body), **kw)


S = "/api/storage"
PROJECT: State = api(f"{S}/projects/{{project}}")
MEMBERS: State = api(f"{S}/projects/{{project}}/members")
FOLDER: State = api(f"{S}/folders/{{folder}}")
IN_FOLDER: State = api(f"{S}/folders/contents?workspaceId={{a}}&folderId={{folder}}")
FILE: State = api(f"{S}/files/{{file}}", f"{S}/files/{{file}}/versions")
TRASH: State = api(f"{S}/workspaces/{{a}}/trash/folders", f"{S}/workspaces/{{a}}/trash/files")
SHARES_OF_X: State = api(f"{S}/shares/entity/FILE/{{file}}")

CASES = [
    # drives
    case(
        "POST",
        f"{S}/projects",
        (201, 201, 201, 201, 201, 201, 404, 401),
        f"{S}/projects",
        lambda v: {"workspaceId": v["a"], "name": "Another"},
        state=rows_of_a,  # a drive nobody else may see
    ),
    case("GET", f"{S}/projects/{{projectId}}", DRIVE_READ, f"{S}/projects/{{project}}"),
    case(
        "PUT",
        f"{S}/projects/{{projectId}}",
        DRIVE_WRITE,
        f"{S}/projects/{{project}}",
        {"description": "changed"},
        state=PROJECT,
    ),
    case(
        "DELETE",
        f"{S}/projects/{{projectId}}",
        (204, 403, 403, 403, 404, 404, 404, 401),
        f"{S}/projects/{{project}}",
        fresh=True,
        state=PROJECT,
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
        (201, 201, 201, 403, 404, 404, 404, 401),
        f"{S}/projects/{{project}}/members",
        lambda v: {"userId": v["ws_member"], "permission": "VIEWER"},
        fresh=True,
        state=MEMBERS,
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
        DRIVE_OWNER,
        f"{S}/projects/{{project}}/members/{{viewer}}",
        {"permission": "EDITOR"},
        fresh=True,
        state=MEMBERS,
    ),
    case(
        "DELETE",
        f"{S}/projects/{{projectId}}/members/{{userId}}",
        (204, 403, 403, 204, 404, 404, 404, 401),  # the viewer may leave
        f"{S}/projects/{{project}}/members/{{viewer}}",
        fresh=True,
        state=MEMBERS,
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
        (201, 201, 201, 403, 404, 403, 404, 401),
        f"{S}/folders",
        lambda v: {"workspaceId": v["a"], "parentId": v["folder"], "name": "sub"},
        state=IN_FOLDER,
    ),
    case(
        "GET",
        f"{S}/folders/contents",
        READ,
        f"{S}/folders/contents?workspaceId={{a}}&folderId={{folder}}",
    ),
    case("GET", f"{S}/folders/{{folderId}}", READ, f"{S}/folders/{{folder}}"),
    case(
        "PUT",
        f"{S}/folders/{{folderId}}",
        WRITE,
        f"{S}/folders/{{folder}}",
        {"color": "#112233"},
        fresh=True,
        state=FOLDER,
    ),
    case(
        "DELETE",
        f"{S}/folders/{{folderId}}",
        WRITE,
        f"{S}/folders/{{folder}}",
        fresh=True,
        state=FOLDER,
    ),
    case(
        "POST",
        f"{S}/folders/{{folderId}}/restore",
        TRASHED_ROOT,
        f"{S}/folders/{{trashed_folder}}/restore",
        fresh=True,
        state=TRASH,
    ),
    case(
        "DELETE",
        f"{S}/folders/{{folderId}}/permanent",
        TRASHED_ROOT,
        f"{S}/folders/{{trashed_folder}}/permanent",
        fresh=True,
        state=TRASH,
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
        state=rows_of_a,  # an unfinished upload is nobody's to see
    ),
    case(
        "POST",
        f"{S}/files/confirm",
        (409, 404, 404, 404, 404, 404, 404, 401),
        f"{S}/files/confirm",
        lambda v: {"fileId": v["pending"]},
        state=rows_of_a,
    ),
    case("GET", f"{S}/files/{{fileId}}", READ, f"{S}/files/{{file}}"),
    case("GET", f"{S}/files/{{fileId}}/download", READ, f"{S}/files/{{file}}/download"),
    case(
        "PUT",
        f"{S}/files/{{fileId}}",
        WRITE,
        f"{S}/files/{{file}}",
        {"name": "renamed.txt"},
        fresh=True,
        state=FILE,
    ),
    case("DELETE", f"{S}/files/{{fileId}}", WRITE, f"{S}/files/{{file}}", fresh=True, state=FILE),
    case(
        "POST",
        f"{S}/files/{{fileId}}/restore",
        TRASHED,
        f"{S}/files/{{trashed}}/restore",
        fresh=True,
        state=TRASH,
    ),
    case(
        "DELETE",
        f"{S}/files/{{fileId}}/permanent",
        TRASHED,
        f"{S}/files/{{trashed}}/permanent",
        fresh=True,
        state=TRASH,
    ),
    case("GET", f"{S}/files/{{fileId}}/shares", WRITE, f"{S}/files/{{file}}/shares"),
    case(
        "POST",
        f"{S}/files/{{fileId}}/versions/upload-url",
        WRITE,
        f"{S}/files/{{file}}/versions/upload-url",
        {"contentType": "text/plain", "fileSize": 2},
        state=rows_of_a,  # an unfinished version too
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
        state=FILE,
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
        state=TRASH,
    ),
    # shares
    case(
        "POST",
        f"{S}/shares",
        (201, 201, 201, 403, 404, 403, 404, 401),
        f"{S}/shares",
        lambda v: {
            "entityType": "FILE",
            "entityId": v["file"],
            "sharedWithId": v["ws_member"],
            "permission": "VIEWER",
        },
        fresh=True,
        state=SHARES_OF_X,
    ),
    case(
        "GET",
        f"{S}/shares/{{shareId}}",
        (200, 200, 200, 403, 404, 200, 404, 401),
        f"{S}/shares/{{share}}",
    ),
    *(
        case(
            method,
            f"{S}/shares/{{shareId}}",
            expect,
            f"{S}/shares/{{{share}}}",
            {"permission": "EDITOR"} if method == "PUT" else None,
            fresh=True,
            state=api(f"{S}/shares/{{{share}}}", f"{S}/shares/entity/FOLDER/{{folder}}"),
            note=note,
            **more,
        )
        for method in ("PUT", "DELETE")
        for share, expect, note, more in (
            ("share", OWNERS_SHARE, "the owner's, with the holder", {}),
            ("link_share", OWNERS_SHARE, "the owner's public link", {}),
            (
                "editor_share",
                EDITORS_SHARE,
                "the editor's, with the member",
                {"prepare": with_editors_share},
            ),
        )
    ),
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


@pytest.fixture(scope="module")
async def matrix_drive(
    environment: Environment, user_service: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Drive]:
    """The storage app on the local backend, once for the module (each row builds its own
    world and drive in it)."""
    async with (
        in_process(
            environment,
            "storage",
            blob_dir=str(tmp_path_factory.mktemp("matrix-blobs")),
            blob_secret=SECRET,
            blob_public_url=BASE,
            user_service_url=user_service,
            cleanup_interval_s=3600.0,
        ) as client,
        httpx.AsyncClient() as http,
    ):
        yield Drive("local", client, http)


async def test_every_route_has_a_row(matrix_drive: Drive) -> None:
    check_routes_covered(matrix_drive.client.app, CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.label for c in CASES])
async def test_matrix(
    matrix_drive: Drive,
    db: psycopg.AsyncConnection[Any],
    users: Any,
    issuer: TokenIssuer,
    case: Case,
) -> None:
    await check_case(
        matrix_drive.client,
        case,
        actors=ACTORS,
        new_world=lambda: new_world(users, issuer),
        clients=Clients(matrix_drive, db),
    )
