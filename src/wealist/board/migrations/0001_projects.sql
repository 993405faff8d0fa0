-- Projects, their members and join requests, and each project's field options
-- (contract 5.1, 5.6). Boards, comments and attachments come in later migrations.
-- Unlike the original: field options always belong to a project; one row per
-- (project, user) member, one OWNER per project, one PENDING request per (project, user).
CREATE TABLE projects (
    id           uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    workspace_id uuid        NOT NULL,
    owner_id     uuid        NOT NULL,
    name         text        NOT NULL,
    description  text        NOT NULL DEFAULT '',
    start_date   timestamptz,
    due_date     timestamptz,
    is_default   boolean     NOT NULL DEFAULT false,
    is_public    boolean     NOT NULL DEFAULT false,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT projects_dates_ordered CHECK (start_date IS NULL OR due_date IS NULL
                                             OR start_date <= due_date)
);

CREATE INDEX projects_workspace_idx ON projects (workspace_id, created_at, id);
CREATE UNIQUE INDEX projects_one_default ON projects (workspace_id) WHERE is_default;

CREATE TABLE project_members (
    id         uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    project_id uuid        NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    user_id    uuid        NOT NULL,
    role_name  text        NOT NULL DEFAULT 'MEMBER'
                           CHECK (role_name IN ('OWNER', 'ADMIN', 'MEMBER')),
    joined_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT project_members_project_user_key UNIQUE (project_id, user_id)
);

CREATE INDEX project_members_user_idx ON project_members (user_id);
CREATE UNIQUE INDEX project_members_one_owner ON project_members (project_id)
    WHERE role_name = 'OWNER';

CREATE TABLE project_join_requests (
    id           uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    project_id   uuid        NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    user_id      uuid        NOT NULL,
    status       text        NOT NULL DEFAULT 'PENDING'
                             CHECK (status IN ('PENDING', 'APPROVED', 'REJECTED')),
    requested_at timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now()
);

CREATE UNIQUE INDEX project_join_requests_one_pending
    ON project_join_requests (project_id, user_id) WHERE status = 'PENDING';
CREATE INDEX project_join_requests_status_idx
    ON project_join_requests (project_id, status, requested_at);

CREATE TABLE field_options (
    id                uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    project_id        uuid        NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    field_type        text        NOT NULL CHECK (field_type IN ('stage', 'importance', 'role')),
    value             text        NOT NULL,
    label             text        NOT NULL,
    color             text        NOT NULL,
    display_order     integer     NOT NULL DEFAULT 0,
    is_system_default boolean     NOT NULL DEFAULT false,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT field_options_project_type_value_key UNIQUE (project_id, field_type, value)
);
