"""Settings of the video service (``WEALIST_VIDEO_<FIELD>``, else ``WEALIST_<FIELD>``).

LiveKit: ``livekit_url`` is the server API the service calls (the original's
``LIVEKIT_HOST``), ``livekit_ws_url`` what browsers connect to (``wsUrl`` in join replies).
Without a URL, key and secret the service still starts; routes that need LiveKit answer
503 ``LIVEKIT_NOT_CONFIGURED``. TURN works the same way with ``turn_secret``.
"""

from __future__ import annotations

import msgspec

from wealist.core.settings import CoreSettings

__all__ = ("MAX_JOIN_TOKEN_TTL_S", "MIN_SECRET_BYTES", "VideoSettings")

MAX_JOIN_TOKEN_TTL_S = 600  # LiveKit checks expiry only at connect: keep join tokens short
MIN_SECRET_BYTES = 32  # LiveKit refuses shorter API secrets; so do HMAC best practices
TRACK_SOURCES = frozenset({"camera", "microphone", "screen_share", "screen_share_audio"})


class VideoSettings(CoreSettings, frozen=True, kw_only=True):
    livekit_url: str = ""
    livekit_ws_url: str = ""
    livekit_api_key: str = ""
    livekit_api_secret: str = ""
    livekit_timeout_s: float = 5.0  # one RoomService call; a row lock may wait on it
    room_empty_timeout_s: int = 300  # LiveKit closes a room left empty this long
    join_token_ttl_s: int = MAX_JOIN_TOKEN_TTL_S
    publish_sources: list[str] = msgspec.field(
        default_factory=lambda: ["camera", "microphone", "screen_share"]
    )

    turn_secret: str = ""  # coturn's static-auth-secret (use-auth-secret)
    turn_urls: list[str] = msgspec.field(default_factory=list)  # turn:host:3478?transport=udp
    stun_urls: list[str] = msgspec.field(default_factory=list)
    turn_ttl_s: int = 8 * 3600  # a working day: coturn re-checks the expiry on refreshes

    # Participants the database calls active but LiveKit does not know (a lost webhook)
    # are marked left this long after they joined; 0 turns the sweep off.
    reconcile_interval_s: float = 60.0
    reconcile_grace_s: float = 120.0
    webhook_retention_s: float = 7 * 86_400.0  # applied webhook ids kept for dedupe

    def __post_init__(self) -> None:
        if not 0 < self.join_token_ttl_s <= MAX_JOIN_TOKEN_TTL_S:
            raise ValueError(f"join_token_ttl_s must be 1 to {MAX_JOIN_TOKEN_TTL_S} seconds")
        if self.livekit_api_secret and len(self.livekit_api_secret) < MIN_SECRET_BYTES:
            raise ValueError(f"livekit_api_secret must be at least {MIN_SECRET_BYTES} characters")
        if self.turn_secret and len(self.turn_secret) < MIN_SECRET_BYTES:
            raise ValueError(f"turn_secret must be at least {MIN_SECRET_BYTES} characters")
        unknown = set(self.publish_sources) - TRACK_SOURCES
        if unknown:
            raise ValueError(f"publish_sources: unknown track sources {sorted(unknown)}")
        if self.turn_ttl_s <= 0:
            raise ValueError("turn_ttl_s must be positive")

    @property
    def livekit_configured(self) -> bool:
        return bool(self.livekit_url and self.livekit_api_key and self.livekit_api_secret)

    @property
    def turn_configured(self) -> bool:
        return bool(self.turn_secret and self.turn_urls)
