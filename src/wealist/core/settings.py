"""Typed settings read from the environment.

Every field of a settings struct is read from ``WEALIST_<SERVICE>_<FIELD>`` first, then from
``WEALIST_<FIELD>``; either may instead name a file with ``..._FILE`` (Kubernetes/Docker
secrets), whose content is used with the trailing newline removed. Values are converted
with msgspec's lax mode, list fields split on commas, mapping fields are JSON objects, and
a bad value raises
:class:`SettingsError` naming the variable that holds it.
"""

from __future__ import annotations

import os
import re
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit, urlunsplit

import msgspec

from wealist.contracts.addresses import default_url

__all__ = ("CoreSettings", "SettingsError", "load_settings")

PREFIX = "WEALIST_"

S = typing.TypeVar("S", bound="CoreSettings")

PRODUCTION_PROFILES = frozenset({"prod", "production"})

Port = Annotated[int, msgspec.Meta(ge=0, le=65_535)]
Positive = Annotated[int, msgspec.Meta(ge=1)]
# An Origin header's value: scheme://host[:port], nothing after (no path, no wildcard).
ORIGIN = re.compile(
    r"^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?$|^https?://\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?$"
)


class SettingsError(ValueError):
    """A setting is missing or invalid; the message names the environment variable."""


class CoreSettings(msgspec.Struct, frozen=True, kw_only=True):
    """Settings every service shares. Services subclass it to add their own fields."""

    profile: str = "dev"
    host: str = "127.0.0.1"
    port: Port = 0  # 0 means the service's default port
    workers: Annotated[int, msgspec.Meta(ge=1, le=512)] = 1
    # Granian: concurrent requests per worker (open sockets and SSE streams count) and
    # the listen queue. Its default caps a process at ~1,024 streams.
    max_connections: Positive = 10_000
    backlog: Annotated[int, msgspec.Meta(ge=1, le=65_535)] = 2048
    # Graceful stop (core.shutdown): on SIGTERM, close sockets with 1012, end streams and
    # wait at most shutdown_drain_s for requests in flight. `wealist serve` turns it on.
    drain_on_sigterm: bool = False
    shutdown_drain_s: Annotated[float, msgspec.Meta(ge=0, le=600)] = 20.0
    log_level: str = "info"
    log_format: str = "auto"  # json | console | auto (console on a TTY)

    postgres_url: str = "postgresql://127.0.0.1:5432/postgres"
    database_url: str = ""  # default: postgres_url with the database wealist_<service>
    db_pool_min: int = 2
    db_pool_max: int = 10
    # How long a request waits for a pooled connection: under the 5 s within which a
    # request must fail during a database outage (T19), with room for the rest of it.
    db_pool_timeout_s: float = 4.0
    db_pool_max_waiting: int = 200
    migrate_on_start: bool = False

    redis_url: str = "redis://127.0.0.1:6379/0"

    jwt_issuer: str = "wealist-auth-service"
    # Our tokens name this audience and every service refuses any other (or none): a
    # token the same key signed for another API is not ours to accept.
    jwt_audience: str = "wealist-api"
    jwks_url: str = "http://127.0.0.1:8080/.well-known/jwks.json"
    jwks_refetch_interval_s: float = 30.0

    internal_api_key: str = ""
    internal_timeout_s: float = 5.0
    user_service_url: str = "http://127.0.0.1:8081"  # membership answers (core.membership)
    # Other services' base URLs by name (JSON object); unnamed ones: 127.0.0.1:<default port>.
    service_urls: dict[str, str] = msgspec.field(default_factory=dict)
    outbox_relay: bool = True  # deliver this service's outbox events (core.events)

    cors_origins: list[str] = msgspec.field(
        default_factory=lambda: ["http://localhost:3000", "http://localhost:5173"]
    )
    max_body_bytes: Positive = 1_048_576
    # Idempotency-Key answers kept this long (core.idempotency); a claim whose request
    # never finished is taken over after the lease.
    idempotency_retention_s: float = 86_400.0
    idempotency_lease_s: float = 60.0

    # Blob storage (one bucket, key prefix per service). No bucket: uploads are refused.
    s3_bucket: str = ""
    s3_region: str = "us-east-1"
    s3_endpoint: str = ""  # internal endpoint (MinIO, moto); empty: AWS
    s3_public_endpoint: str = ""  # the host presigned URLs are signed for; default: internal
    s3_access_key: str = ""  # empty: the default AWS credential chain (IAM role)
    s3_secret_key: str = ""
    s3_create_bucket: bool = False  # create the bucket at start (dev and tests)
    # Or, without a bucket, objects in a local directory (one machine; `wealist up`). Its
    # URLs are signed with blob_secret (>= 32 bytes, the same in every service sharing
    # the directory) and served at <blob_public_url>/api/blobs/ (default: the service).
    blob_dir: str = ""
    blob_secret: str = ""
    blob_public_url: str = ""

    # Sockets and SSE streams also take the access token as ?token= (the original
    # frontend's way); off: only a single-use ?ticket= (core.tickets) or a header.
    socket_query_token: bool = True
    ws_heartbeat_s: float = 25.0
    ws_max_frame_bytes: int = 65_536
    ws_queue_size: int = 256
    sse_ping_s: float = 30.0

    def invalid(self) -> tuple[str, str] | None:
        """(field, why) for a value the types allow but the service cannot run with."""
        for origin in self.cors_origins:
            if origin == "*":
                return (
                    "cors_origins",
                    "'*' is not allowed (browsers send credentials): list origins",
                )
            if not ORIGIN.match(origin):
                return "cors_origins", f"{origin!r} is not an origin (scheme://host[:port])"
        return None

    @property
    def is_production(self) -> bool:
        return self.profile.lower() in PRODUCTION_PROFILES

    def service_url(self, service: str) -> str:
        """Base URL of another wealist service (``service_urls``, else its default port)."""
        if service in self.service_urls:
            return self.service_urls[service].rstrip("/")
        if service == "user":
            return self.user_service_url.rstrip("/")
        return default_url(service)

    def database_url_for(self, database: str) -> str:
        """The DSN of a service database: the explicit one, else ``postgres_url`` re-pointed."""
        if self.database_url:
            return self.database_url
        return with_database(self.postgres_url, database)


def with_database(url: str, database: str) -> str:
    """Return ``url`` with its path (the database name) replaced by ``database``."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + database, parts.query, parts.fragment))


def env_names(field: str, service: str | None) -> list[str]:
    """Candidate variable names for ``field``, most specific first."""
    names = []
    if service:
        names.append(f"{PREFIX}{service.upper()}_{field.upper()}")
    names.append(f"{PREFIX}{field.upper()}")
    return names


def _read(field: str, service: str | None, environ: Mapping[str, str]) -> tuple[str, str] | None:
    for name in env_names(field, service):
        if name in environ:
            return name, environ[name]
        file_var = f"{name}_FILE"
        if file_var in environ:
            path = Path(environ[file_var])
            try:
                return file_var, path.read_text(encoding="utf-8").rstrip("\n")
            except OSError as exc:
                msg = f"{file_var}: cannot read {path}: {exc.strerror}"
                raise SettingsError(msg) from exc
    return None


def _is_sequence(tp: object) -> bool:
    origin = typing.get_origin(tp)
    return origin in (list, tuple, frozenset, set)


def _is_mapping(tp: object) -> bool:
    return typing.get_origin(tp) is dict or (
        isinstance(tp, type) and issubclass(tp, msgspec.Struct)
    )


def load_settings(
    cls: type[S],
    service: str | None = None,
    environ: Mapping[str, str] | None = None,
    **overrides: object,
) -> S:
    """Build ``cls`` from the environment, then apply explicit ``overrides``.

    Raises:
        SettingsError: a value does not convert; the message names its variable.
    """
    env = os.environ if environ is None else environ
    hints = typing.get_type_hints(cls)
    raw: dict[str, object] = {}
    source: dict[str, str] = {}
    for field in msgspec.structs.fields(cls):
        found = _read(field.name, service, env)
        if found is None:
            continue
        name, value = found
        source[field.name] = name
        if _is_sequence(hints[field.name]):
            raw[field.name] = [item.strip() for item in value.split(",") if item.strip()]
        elif _is_mapping(hints[field.name]):
            try:
                raw[field.name] = msgspec.json.decode(value)
            except msgspec.DecodeError as exc:
                raise SettingsError(f"{name}: not valid JSON ({exc})") from exc
        else:
            raw[field.name] = value
    for key, override in overrides.items():
        raw[key] = override
        source[key] = f"override {key}"
    try:
        settings = msgspec.convert(raw, cls, strict=False)
    except msgspec.ValidationError as exc:
        raise SettingsError(_name_the_variable(str(exc), source, service)) from exc
    problem = settings.invalid()
    if problem is not None:
        name, why = problem
        raise SettingsError(f"{source.get(name) or env_names(name, service)[0]}: {why}")
    return settings


def _name_the_variable(message: str, source: dict[str, str], service: str | None) -> str:
    # msgspec says "... - at `$.field`"; point at the variable that supplied the field.
    marker = "at `$."
    if marker in message:
        field = message.split(marker, 1)[1].split("`", 1)[0].split("[", 1)[0]
        variable = source.get(field) or env_names(field, service)[0]
        reason = message.split(" - at ", 1)[0]
        return f"{variable}: {reason}"
    return message
