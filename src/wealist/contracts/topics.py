"""Broker topic names: ``<scope>:<id>``, built only here so producers and consumers agree."""

from __future__ import annotations

__all__ = ("chat", "presence", "project", "user")


def chat(chat_id: str) -> str:
    return f"chat:{chat_id}"


def project(project_id: str) -> str:
    return f"project:{project_id}"


def user(user_id: str) -> str:
    return f"user:{user_id}"


def presence(workspace_id: str) -> str:
    return f"presence:{workspace_id}"
