-- Workspaces, memberships, join requests, per-workspace profiles and profile-image
-- attachments (contract 4.5), with the integrity the original lacked: one membership per
-- (workspace, user) and one profile per (user, workspace), enforced here so that racing
-- requests cannot duplicate them; one active OWNER per workspace; one PENDING request per
-- (workspace, user); one default workspace per user.
CREATE TABLE workspaces (
    id                    uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    owner_id              uuid        NOT NULL REFERENCES users (id),
    workspace_name        text        NOT NULL,
    workspace_description text,
    is_public             boolean     NOT NULL DEFAULT true,
    need_approved         boolean     NOT NULL DEFAULT true,
    only_owner_can_invite boolean     NOT NULL DEFAULT true,
    is_active             boolean     NOT NULL DEFAULT true,
    created_at            timestamptz NOT NULL DEFAULT now(),
    updated_at            timestamptz NOT NULL DEFAULT now(),
    deleted_at            timestamptz
);

CREATE INDEX workspaces_owner_idx ON workspaces (owner_id);

-- Removal keeps the row (is_active = false) so that "version" only ever grows for a
-- (workspace, user): the membership cache keeps the answer with the highest version, so
-- a late write of an older answer can never overwrite a newer one.
CREATE TABLE workspace_members (
    id           uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    workspace_id uuid        NOT NULL REFERENCES workspaces (id),
    user_id      uuid        NOT NULL REFERENCES users (id),
    role_name    text        NOT NULL DEFAULT 'MEMBER'
                             CHECK (role_name IN ('OWNER', 'ADMIN', 'MEMBER')),
    is_default   boolean     NOT NULL DEFAULT false,
    is_active    boolean     NOT NULL DEFAULT true,
    version      bigint      NOT NULL DEFAULT 1,
    joined_at    timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT workspace_members_workspace_user_key UNIQUE (workspace_id, user_id)
);

CREATE INDEX workspace_members_user_idx ON workspace_members (user_id) WHERE is_active;
CREATE INDEX workspace_members_list_idx ON workspace_members (workspace_id, joined_at, id)
    WHERE is_active;
CREATE UNIQUE INDEX workspace_members_one_owner ON workspace_members (workspace_id)
    WHERE is_active AND role_name = 'OWNER';
CREATE UNIQUE INDEX workspace_members_one_default ON workspace_members (user_id)
    WHERE is_active AND is_default;

CREATE TABLE workspace_join_requests (
    id           uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    workspace_id uuid        NOT NULL REFERENCES workspaces (id),
    user_id      uuid        NOT NULL REFERENCES users (id),
    status       text        NOT NULL DEFAULT 'PENDING'
                             CHECK (status IN ('PENDING', 'APPROVED', 'REJECTED')),
    requested_at timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now()
);

CREATE UNIQUE INDEX workspace_join_requests_one_pending
    ON workspace_join_requests (workspace_id, user_id) WHERE status = 'PENDING';
CREATE INDEX workspace_join_requests_pending_idx
    ON workspace_join_requests (workspace_id, requested_at, id) WHERE status = 'PENDING';

CREATE TABLE user_profiles (
    id                uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id           uuid        NOT NULL REFERENCES users (id),
    workspace_id      uuid        NOT NULL REFERENCES workspaces (id),
    nick_name         text        NOT NULL,
    email             text        NOT NULL,
    profile_image_url text,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT user_profiles_user_workspace_key UNIQUE (user_id, workspace_id)
);

CREATE INDEX user_profiles_workspace_idx ON user_profiles (workspace_id);

-- A profile image from presign to confirmation. The row exists from the presign on, so
-- only the user the key was issued to can attach and confirm it. purge_after is when the
-- cleanup job deletes the row and its object: the TEMP expiry, or the moment a confirmed
-- image was replaced; NULL for the image in use.
CREATE TABLE attachments (
    id           uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    entity_type  text        NOT NULL DEFAULT 'USER_PROFILE' CHECK (entity_type = 'USER_PROFILE'),
    entity_id    uuid,
    status       text        NOT NULL DEFAULT 'TEMP' CHECK (status IN ('TEMP', 'CONFIRMED')),
    file_key     text        NOT NULL UNIQUE,
    file_name    text        NOT NULL,
    file_url     text        NOT NULL,
    file_size    bigint      NOT NULL CHECK (file_size > 0),
    content_type text        NOT NULL,
    uploaded_by  uuid        NOT NULL REFERENCES users (id),
    uploaded_at  timestamptz,
    expires_at   timestamptz NOT NULL,
    purge_after  timestamptz,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    deleted_at   timestamptz
);

CREATE INDEX attachments_purge_idx ON attachments (purge_after) WHERE purge_after IS NOT NULL;

-- The hidden "_default" workspace holds each user's fallback profile (contract 4.5). It is
-- inactive and private, so no listing, search or membership check ever sees it.
INSERT INTO workspaces (id, owner_id, workspace_name, is_public, need_approved, is_active)
VALUES ('00000000-0000-0000-0000-000000000000', '00000000-0000-0000-0000-000000000001',
        '_default', false, true, false)
ON CONFLICT DO NOTHING;
