"""user service: users, workspaces, members, join requests, per-workspace profiles.

Owns: user_db (users, workspaces, workspace_members, join requests, profiles).
Redis: membership cache. Routes: /api/users, /api/workspaces, /api/profiles, /api/internal/*.
"""
