-- The drive (contract 8.6), rebuilt: shared drives ("projects") and their members, folders
-- with their ancestry, files with every stored version, one shares table for files and
-- folders, and the objects waiting to be deleted from the blob store.
--
-- Unlike the original: names are unique among live siblings (the index decides races);
-- trash remembers which deletion took an item (trash_root) so restore brings back exactly
-- what one deletion took; a file's versions are kept; quota and usage read versions.

CREATE TABLE storage_projects (
    id                 uuid        PRIMARY KEY,
    workspace_id       uuid        NOT NULL,
    name               text        NOT NULL CHECK (length(name) BETWEEN 1 AND 255),
    description        text        CHECK (length(description) <= 1024),
    default_permission text        NOT NULL DEFAULT 'VIEWER'
                                   CHECK (default_permission IN ('OWNER', 'EDITOR', 'VIEWER')),
    is_public          boolean     NOT NULL DEFAULT false,
    created_by         uuid        NOT NULL,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    deleted_at         timestamptz
);

CREATE INDEX storage_projects_workspace_idx
    ON storage_projects (workspace_id, created_at, id) WHERE deleted_at IS NULL;

CREATE TABLE storage_project_members (
    id         uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    project_id uuid        NOT NULL REFERENCES storage_projects (id) ON DELETE CASCADE,
    user_id    uuid        NOT NULL,
    permission text        NOT NULL CHECK (permission IN ('OWNER', 'EDITOR', 'VIEWER')),
    added_by   uuid        NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT storage_project_members_pair UNIQUE (project_id, user_id)
);

CREATE INDEX storage_project_members_user_idx ON storage_project_members (user_id);

-- ancestors: the ids from the top folder down to this one, itself included; a subtree is
-- every row whose ancestors contain the root's id (GIN). path: the names the same way.
CREATE TABLE storage_folders (
    id           uuid        PRIMARY KEY,
    workspace_id uuid        NOT NULL,
    project_id   uuid        REFERENCES storage_projects (id),
    parent_id    uuid        REFERENCES storage_folders (id),
    name         text        NOT NULL CHECK (length(name) BETWEEN 1 AND 255),
    path         text        NOT NULL,
    ancestors    uuid[]      NOT NULL,
    color        text,
    created_by   uuid        NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    deleted_at   timestamptz,
    trash_root   uuid
);

CREATE INDEX storage_folders_ancestors_idx ON storage_folders USING gin (ancestors);
CREATE INDEX storage_folders_children_idx
    ON storage_folders (workspace_id, project_id, parent_id, name) WHERE deleted_at IS NULL;
CREATE INDEX storage_folders_trash_idx
    ON storage_folders (workspace_id, deleted_at) WHERE deleted_at IS NOT NULL;
CREATE INDEX storage_folders_trash_root_idx
    ON storage_folders (trash_root) WHERE trash_root IS NOT NULL;
CREATE UNIQUE INDEX storage_folders_unique_name ON storage_folders (
    workspace_id,
    coalesce(project_id, '00000000-0000-0000-0000-000000000000'),
    coalesce(parent_id, '00000000-0000-0000-0000-000000000000'),
    name
) WHERE deleted_at IS NULL;

-- A file row carries its current version's key, size and type (what lists show).
-- UPLOADING: issued, not yet confirmed; ACTIVE; DELETED: in the trash.
CREATE TABLE storage_files (
    id            uuid        PRIMARY KEY,
    workspace_id  uuid        NOT NULL,
    project_id    uuid        REFERENCES storage_projects (id),
    folder_id     uuid        REFERENCES storage_folders (id),
    name          text        NOT NULL CHECK (length(name) BETWEEN 1 AND 255),
    original_name text        NOT NULL,
    file_key      text        NOT NULL,
    file_size     bigint      NOT NULL CHECK (file_size >= 0),
    content_type  text        NOT NULL,
    status        text        NOT NULL DEFAULT 'UPLOADING'
                              CHECK (status IN ('UPLOADING', 'ACTIVE', 'DELETED')),
    version       integer     NOT NULL DEFAULT 1,
    uploaded_by   uuid        NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    deleted_at    timestamptz,
    trash_root    uuid
);

CREATE INDEX storage_files_folder_idx
    ON storage_files (folder_id, name) WHERE status = 'ACTIVE';
CREATE INDEX storage_files_workspace_recent_idx
    ON storage_files (workspace_id, created_at DESC, id DESC) WHERE status = 'ACTIVE';
CREATE INDEX storage_files_trash_idx
    ON storage_files (workspace_id, deleted_at) WHERE status = 'DELETED';
CREATE INDEX storage_files_project_idx ON storage_files (project_id);
CREATE INDEX storage_files_trash_root_idx
    ON storage_files (trash_root) WHERE trash_root IS NOT NULL;
CREATE UNIQUE INDEX storage_files_unique_name ON storage_files (
    workspace_id,
    coalesce(project_id, '00000000-0000-0000-0000-000000000000'),
    coalesce(folder_id, '00000000-0000-0000-0000-000000000000'),
    name
) WHERE status = 'ACTIVE';

-- Every stored object of a file. version is NULL until the upload is confirmed; an
-- unconfirmed row reserves quota until upload_expires_at, then the cleanup job removes it.
CREATE TABLE storage_file_versions (
    id                uuid        PRIMARY KEY,
    file_id           uuid        NOT NULL REFERENCES storage_files (id) ON DELETE CASCADE,
    workspace_id      uuid        NOT NULL,
    version           integer,
    file_key          text        NOT NULL UNIQUE,
    file_size         bigint      NOT NULL CHECK (file_size >= 1),
    content_type      text        NOT NULL,
    original_name     text        NOT NULL,
    status            text        NOT NULL DEFAULT 'UPLOADING'
                                  CHECK (status IN ('UPLOADING', 'ACTIVE')),
    uploaded_by       uuid        NOT NULL,
    created_at        timestamptz NOT NULL DEFAULT now(),
    confirmed_at      timestamptz,
    upload_expires_at timestamptz NOT NULL,
    CONSTRAINT storage_file_versions_number UNIQUE (file_id, version),
    CONSTRAINT storage_file_versions_confirmed CHECK ((status = 'ACTIVE') = (version IS NOT NULL))
);

CREATE INDEX storage_file_versions_usage_idx ON storage_file_versions (workspace_id, status);
CREATE INDEX storage_file_versions_expiry_idx
    ON storage_file_versions (upload_expires_at) WHERE status = 'UPLOADING';

-- A share of one file or folder with one workspace member, or by public link.
CREATE TABLE storage_shares (
    id               uuid        PRIMARY KEY,
    workspace_id     uuid        NOT NULL,
    entity_type      text        NOT NULL CHECK (entity_type IN ('FILE', 'FOLDER')),
    file_id          uuid        REFERENCES storage_files (id) ON DELETE CASCADE,
    folder_id        uuid        REFERENCES storage_folders (id) ON DELETE CASCADE,
    shared_with_id   uuid,
    shared_by_id     uuid        NOT NULL,
    permission       text        NOT NULL CHECK (permission IN ('VIEWER', 'COMMENTER', 'EDITOR')),
    is_public        boolean     NOT NULL DEFAULT false,
    share_link       text        UNIQUE,
    link_expires_at  timestamptz,
    password_hash    text,
    include_children boolean     NOT NULL DEFAULT true,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT storage_shares_one_entity
        CHECK ((entity_type = 'FILE') = (file_id IS NOT NULL)
               AND (entity_type = 'FOLDER') = (folder_id IS NOT NULL)),
    CONSTRAINT storage_shares_user_or_link
        CHECK ((shared_with_id IS NULL) = is_public AND is_public = (share_link IS NOT NULL))
);

CREATE UNIQUE INDEX storage_shares_file_user
    ON storage_shares (file_id, shared_with_id) WHERE shared_with_id IS NOT NULL;
CREATE UNIQUE INDEX storage_shares_folder_user
    ON storage_shares (folder_id, shared_with_id) WHERE shared_with_id IS NOT NULL;
CREATE INDEX storage_shares_with_idx ON storage_shares (shared_with_id, created_at DESC);

-- Objects whose rows are gone: deleted right after commit, retried by the cleanup job.
CREATE TABLE storage_doomed_blobs (
    file_key   text        PRIMARY KEY,
    created_at timestamptz NOT NULL DEFAULT now()
);
