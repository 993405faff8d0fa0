"""LiveKit, as the video service uses it: join tokens, webhooks and the RoomService.

Every RoomService failure becomes :class:`LiveKitUnavailable` (503 ``LIVEKIT_UNAVAILABLE``),
never a silent success; "not found" on a delete or removal is success (already gone).
Room names in LiveKit are our room ids (no names or PII reach LiveKit's logs).
"""

from __future__ import annotations

import asyncio
import datetime
from dataclasses import dataclass
from typing import Any

import aiohttp
import msgspec
from google.protobuf.json_format import ParseError
from livekit import api
from livekit.protocol.webhook import WebhookEvent

from wealist.core.context import ServiceContext
from wealist.core.errors import BadRequest, ServiceUnavailable, Unauthorized
from wealist.video.settings import VideoSettings

__all__ = (
    "JoinIdentity",
    "LiveKit",
    "LiveKitUnavailable",
    "livekit_of",
    "mint_join_token",
    "receive_webhook",
)

STATE_KEY = "livekit"


class LiveKitUnavailable(ServiceUnavailable):
    code = "LIVEKIT_UNAVAILABLE"
    default_message = "The video server is unavailable; try again shortly"


class LiveKitNotConfigured(ServiceUnavailable):
    code = "LIVEKIT_NOT_CONFIGURED"
    default_message = "Video calls are not configured on this server"


def _failure(exc: BaseException, call: str) -> LiveKitUnavailable:
    if isinstance(exc, api.TwirpError):
        return LiveKitUnavailable(f"the video server refused {call} ({exc.code})")
    return LiveKitUnavailable(f"the video server did not answer {call} ({type(exc).__name__})")


_TRANSPORT = (aiohttp.ClientError, asyncio.TimeoutError, api.TwirpError)


class LiveKit:
    """The RoomService calls the video service makes (one aiohttp session per process)."""

    def __init__(self, settings: VideoSettings) -> None:
        self._api = api.LiveKitAPI(
            settings.livekit_url,
            settings.livekit_api_key,
            settings.livekit_api_secret,
            timeout=aiohttp.ClientTimeout(total=settings.livekit_timeout_s),
            failover=False,
        )
        self._empty_timeout = settings.room_empty_timeout_s

    async def close(self) -> None:
        await self._api.aclose()

    async def create_room(self, room: str, max_participants: int) -> None:
        request = api.CreateRoomRequest(
            name=room, empty_timeout=self._empty_timeout, max_participants=max_participants
        )
        try:
            await self._api.room.create_room(request)
        except _TRANSPORT as exc:
            raise _failure(exc, "CreateRoom") from exc

    async def delete_room(self, room: str) -> bool:
        """Close the room for everyone; False when LiveKit had no such room."""
        try:
            await self._api.room.delete_room(api.DeleteRoomRequest(room=room))
        except api.TwirpError as exc:
            if exc.code == api.TwirpErrorCode.NOT_FOUND:
                return False
            raise _failure(exc, "DeleteRoom") from exc
        except _TRANSPORT as exc:
            raise _failure(exc, "DeleteRoom") from exc
        return True

    async def remove_participant(self, room: str, identity: str) -> bool:
        """Disconnect one participant; False when they were not connected."""
        request = api.RoomParticipantIdentity(room=room, identity=identity)
        try:
            await self._api.room.remove_participant(request)
        except api.TwirpError as exc:
            if exc.code == api.TwirpErrorCode.NOT_FOUND:
                return False
            raise _failure(exc, "RemoveParticipant") from exc
        except _TRANSPORT as exc:
            raise _failure(exc, "RemoveParticipant") from exc
        return True

    async def list_identities(self, room: str) -> set[str] | None:
        """Who is connected to the room; None when LiveKit has no such room."""
        try:
            found = await self._api.room.list_participants(api.ListParticipantsRequest(room=room))
        except api.TwirpError as exc:
            if exc.code == api.TwirpErrorCode.NOT_FOUND:
                return None
            raise _failure(exc, "ListParticipants") from exc
        except _TRANSPORT as exc:
            raise _failure(exc, "ListParticipants") from exc
        return {p.identity for p in found.participants}


def livekit_of(ctx: ServiceContext) -> LiveKit:
    """The process's LiveKit client (opened by the service's lifespan), or 503."""
    client = ctx.state.get(STATE_KEY)
    if not isinstance(client, LiveKit):
        raise LiveKitNotConfigured
    return client


def video_settings(ctx: ServiceContext) -> VideoSettings:
    settings = ctx.settings
    assert isinstance(settings, VideoSettings)
    return settings


# --- join tokens ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class JoinIdentity:
    """Who a join token is for: the user id (identity) and their workspace profile."""

    user_id: str
    name: str
    image_url: str | None


_metadata = msgspec.json.Encoder()


def mint_join_token(settings: VideoSettings, room: str, who: JoinIdentity) -> str:
    """A token that joins exactly ``room`` and nothing else, for ``join_token_ttl_s``.

    Publishing is limited to camera, microphone and screen share; metadata is set here
    (the profile the frontend used to set itself), so participants may not change it.
    """
    if not (settings.livekit_api_key and settings.livekit_api_secret):
        raise LiveKitNotConfigured
    grants = api.VideoGrants(
        room_join=True,
        room=room,
        can_publish=True,
        can_subscribe=True,
        can_publish_data=True,
        can_publish_sources=list(settings.publish_sources),
        can_update_own_metadata=False,
    )
    metadata = {"id": who.user_id, "nickName": who.name, "profileImageUrl": who.image_url}
    return (
        api.AccessToken(settings.livekit_api_key, settings.livekit_api_secret)
        .with_identity(who.user_id)
        .with_name(who.name)
        .with_metadata(_metadata.encode(metadata).decode())
        .with_grants(grants)
        .with_ttl(datetime.timedelta(seconds=settings.join_token_ttl_s))
        .to_jwt()
    )


# --- webhooks ---------------------------------------------------------------------------


def receive_webhook(settings: VideoSettings, body: bytes, authorization: str | None) -> Any:
    """The verified event: the ``Authorization`` JWT is signed with our API secret and
    carries the body's sha256. 401 when either check fails, 400 for a signed non-event."""
    if not (settings.livekit_api_key and settings.livekit_api_secret):
        raise LiveKitNotConfigured
    token = (authorization or "").strip()
    if token[:7].lower() == "bearer ":
        token = token[7:].strip()
    if not token:
        raise Unauthorized("missing webhook signature")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise BadRequest("webhook body is not UTF-8") from None
    receiver = api.WebhookReceiver(
        api.TokenVerifier(settings.livekit_api_key, settings.livekit_api_secret)
    )
    try:
        event: WebhookEvent = receiver.receive(text, token)
    except ParseError:
        raise BadRequest("webhook body is not a LiveKit event") from None
    except Exception:  # noqa: BLE001  # jwt errors, hash mismatch: all mean "not from LiveKit"
        raise Unauthorized("invalid webhook signature") from None
    return event
