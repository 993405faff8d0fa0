"""Broker topic names: ``<scope>:<id>``, built only here so producers and consumers agree."""

from __future__ import annotations

__all__ = (
    "MULTICAST_SCOPES",
    "access",
    "chat",
    "chat_user",
    "multicast",
    "presence",
    "project",
    "scope",
    "user",
)

# Scopes whose topics also hear one publish meant for many of them (core.realtime.multicast).
MULTICAST_SCOPES = frozenset({"chat-user"})


def chat(chat_id: str) -> str:
    return f"chat:{chat_id}"


def project(project_id: str) -> str:
    return f"project:{project_id}"


def user(user_id: str) -> str:
    return f"user:{user_id}"


def presence(workspace_id: str) -> str:
    return f"presence:{workspace_id}"


def chat_user(user_id: str) -> str:
    """One user's chat events outside a chat (the presence socket's NEW_MESSAGE_NOTIFICATION).

    Not ``user:`` - that one is the noti service's, and a shared broker delivers a topic
    to every service subscribed to it.
    """
    return f"chat-user:{user_id}"


def access(user_id: str) -> str:
    """Signals that one user's workspace access changed (``membership.access_lost``):
    published by the user service, heard by that user's sockets in every service."""
    return f"access:{user_id}"


def scope(topic: str) -> str:
    """``chat`` of ``chat:<id>``."""
    return topic.partition(":")[0]


def multicast(scope_name: str) -> str:
    """The channel of one publish for many topics of ``scope_name`` (one of MULTICAST_SCOPES)."""
    return f"multicast:{scope_name}"
