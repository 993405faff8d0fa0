"""Field options: the values a project's stage, importance and role fields take."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

import msgspec

FieldType = Literal["stage", "importance", "role"]
Color = Annotated[str, msgspec.Meta(max_length=7, pattern=r"^#[0-9A-Fa-f]{6}$")]
Value = Annotated[str, msgspec.Meta(max_length=100, pattern=r"^[A-Za-z0-9_\-]{1,100}$")]
Label = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Order = Annotated[int, msgspec.Meta(ge=0, le=10_000)]


class CreateOption(msgspec.Struct, rename="camel", kw_only=True):
    project_id: UUID
    field_type: FieldType
    value: Value
    label: Label
    color: Color
    display_order: Order = 0


class UpdateOption(msgspec.Struct, rename="camel", kw_only=True):
    label: Label | None = None
    color: Color | None = None
    display_order: Order | None = None


class OptionOut(msgspec.Struct, rename="camel", kw_only=True):
    option_id: UUID
    project_id: UUID  # additive: options belong to a project
    field_type: str
    value: str
    label: str
    color: str
    display_order: int
    is_system_default: bool
    created_at: datetime
    updated_at: datetime
