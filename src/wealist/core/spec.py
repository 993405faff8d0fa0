"""``ServiceSpec``: what a service is, as data. ``core.app`` turns it into an ASGI app."""

from __future__ import annotations

from dataclasses import dataclass, field

from wealist.core.settings import CoreSettings

__all__ = ("ServiceSpec",)


@dataclass(frozen=True, slots=True)
class ServiceSpec:
    """A deployable service.

    Attributes:
        name: short name (``board``); also the env prefix ``WEALIST_BOARD_`` and the
            metrics namespace ``board_service``.
        port: default port of ``wealist serve <name>``.
        summary: one line for ``wealist routes`` and the OpenAPI title.
        routes: import path of the list of route handlers (``wealist.board.api:ROUTES``), or
            of a function of the settings that returns one.
        fast_routes: import path of the service's :class:`~wealist.core.fastlane.FastRoute`
            list (or a function of the settings returning one): its hottest routes, also
            in ``routes``, answered without the framework's per-request layers.
        settings: the settings struct (a :class:`CoreSettings` subclass).
        database: name of the service's own database (``board_db``), or None.
        outbox: the database also holds the shared outbox/inbox tables.
        realtime: the service serves WebSocket or SSE and needs the broker and hub.
        blobs: the service stores files; ``ctx.blobs`` is its store when S3 is configured.
        health_prefixes: extra bases the health routes are mounted under (contract 2.6).
        hooks: import paths of ``async def hook(ctx) -> AsyncIterator[None]`` lifespans.
        event_handlers: import path of a mapping event type -> handler: the cross-service
            events this service applies (``POST /api/internal/events/<name>``, core.events).
    """

    name: str
    port: int
    summary: str
    routes: str = ""
    fast_routes: str = ""
    settings: type[CoreSettings] = CoreSettings
    database: str | None = None
    outbox: bool = False
    realtime: bool = False
    blobs: bool = False
    health_prefixes: tuple[str, ...] = ("",)
    hooks: tuple[str, ...] = field(default_factory=tuple)
    event_handlers: str = ""

    @property
    def migrations_package(self) -> str:
        return f"wealist.{self.name}.migrations"
