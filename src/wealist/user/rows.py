"""Rows the user service's queries return (msgspec structs built by psycopg's class_row)."""

from __future__ import annotations

from uuid import UUID

import msgspec

__all__ = ("LoginUserRow",)


class LoginUserRow(msgspec.Struct, frozen=True):
    """The user an internal login found or created (``upsert_login_user``)."""

    id: UUID
    created: bool  # this call inserted the row
    active: bool  # is_active and not soft-deleted
