"""user service: users, workspaces, members, join requests, per-workspace profiles.

Owns: user_db. Tables so far: ``users`` (email unique case-insensitively, soft delete via
``is_active``/``deleted_at``; seeded with the system user ``...0001``), plus the shared
outbox tables. Redis: membership cache.
Routes so far (internal, ``x-internal-api-key`` required):
``POST /api/internal/oauth/login`` (find or create a user by email, for the auth service),
``GET /api/internal/users/{userId}/exists``.
Planned: /api/users, /api/workspaces, /api/profiles.
"""
