"""Build Litestar apps from service specs: one service, or every service in one process.

Each service's handlers sit in a ``Router`` that carries the service's ``ctx`` dependency,
its error envelope and its name (for metrics). The app adds health and metrics routes,
CORS from an explicit allow-list, the body-size limit, the request-context middleware and
a lifespan that opens and closes every resource.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

import msgspec
import psycopg
import structlog
from litestar import Litestar, MediaType, Request, Response, Router, get
from litestar.config.cors import CORSConfig
from litestar.di import Provide
from litestar.exceptions import HTTPException, ValidationException
from litestar.handlers import HTTPRouteHandler
from litestar.openapi import OpenAPIConfig, ResponseSpec
from litestar.openapi.plugins import JsonRenderPlugin
from litestar.routes import WebSocketRoute
from litestar.types import ControllerRouterHandler

from wealist.core.blobs.http import blob_routes
from wealist.core.context import Runtime, ServiceContext, import_string
from wealist.core.deps import Ctx, InternalCall
from wealist.core.errors import (
    AppError,
    Conflict,
    ValidationFailed,
    envelope,
    envelope_schema,
    error_for_status,
)
from wealist.core.errors import Envelope as EnvelopeRenderer
from wealist.core.fastlane import ErrorReply, FastLane
from wealist.core.health import health_routes, live_routes
from wealist.core.idempotency import idempotency_middleware
from wealist.core.internal import INTERNAL_KEY_HEADER, check_internal_key
from wealist.core.logging import configure_logging
from wealist.core.metrics import CONTENT_TYPE_LATEST
from wealist.core.middleware import USER_ID_KEY, RequestContextMiddleware, request_id_of
from wealist.core.request import GuardedRequest
from wealist.core.security import KeySet, Principal, bearer_token
from wealist.core.settings import CoreSettings
from wealist.core.spec import ServiceSpec
from wealist.core.tickets import socket_credential

__all__ = ("build_app", "build_stack_app", "route_lines")

log = structlog.get_logger("wealist.app")

CORS_HEADERS = [
    "Origin",
    "Content-Type",
    "Accept",
    "Authorization",
    "X-Request-ID",
    "X-Workspace-Id",
    "Idempotency-Key",
]


def error_reply(render: EnvelopeRenderer) -> ErrorReply:
    """How an exception is answered in one envelope: logged when it is ours to fix (a 500
    with its stack trace) or an outage (a 503, its code only), then rendered."""

    def reply(exc: Exception, request_id: str, route: str | None) -> tuple[AppError, Any]:
        error = to_app_error(exc)
        if not isinstance(exc, AppError) and error.status >= 500:
            log.error("http.unhandled_error", exc_info=exc, route=route)
        elif error.status >= 500:
            log.warning("http.service_error", code=error.code, route=route)
        body = render(error, request_id)
        if error.details is not None:
            body["details"] = error.details
        return error, body

    return reply


def exception_handler(render: EnvelopeRenderer) -> Any:
    """A Litestar exception handler that renders every error in one envelope."""
    reply = error_reply(render)

    def handle(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
        scope = request.scope
        error, body = reply(exc, request_id_of(scope), scope.get("path_template"))
        return Response(
            body, status_code=error.status, headers=error.headers, media_type=MediaType.JSON
        )

    return handle


def to_app_error(exc: Exception) -> AppError:
    if isinstance(exc, AppError):
        return exc
    if isinstance(exc, ValidationException):
        return ValidationFailed(_validation_message(exc), details=exc.extra or None)
    if isinstance(exc, msgspec.ValidationError):
        return ValidationFailed(str(exc))
    if isinstance(exc, HTTPException):
        return _from_http(exc)
    if isinstance(exc, psycopg.Error):
        return _from_database(exc)
    return AppError()


def _from_database(exc: psycopg.Error) -> AppError:
    if isinstance(exc, psycopg.DataError):
        # A value the request carried that the database cannot hold (a number out of
        # range, a NUL in text): the caller's input, refused after a rollback.
        return ValidationFailed("a value in the request is out of range or cannot be stored")
    if isinstance(exc, psycopg.errors.UniqueViolation):
        # A race the action's own checks could not see (two requests inserting the same
        # thing at once): the database kept one, the other caller hears it conflicts.
        return Conflict("conflicts with a concurrent change; reload and retry")
    return AppError()


def _from_http(exc: HTTPException) -> AppError:
    if exc.status_code == 400:  # the framework could not parse the request
        return ValidationFailed(exc.detail or None)
    message = exc.detail if exc.status_code < 500 else None
    error = error_for_status(exc.status_code, message)
    error.headers = dict(exc.headers or {})
    return error


def _validation_message(exc: ValidationException) -> str:
    extra = exc.extra
    if isinstance(extra, list) and extra and isinstance(extra[0], dict):
        first = extra[0]
        where = first.get("key") or first.get("source") or ""
        return f"{first.get('message', 'Invalid value')}{f' ({where})' if where else ''}"
    return "Invalid request"


async def provide_principal(request: Request[Any, Any, Any], ctx: Ctx) -> Principal:
    """The ``caller`` dependency: a verified access token from the ``Authorization`` header.

    Routes that browsers open with ``EventSource`` (which cannot send headers) declare
    ``opt={"token_in_query": True}`` and may pass a single-use ``?ticket=`` instead
    (core.tickets), or ``?token=`` as in the contract unless ``socket_query_token`` is off.
    """
    token = bearer_token(request.headers.get("authorization"))
    if token is None and request.route_handler.opt.get("token_in_query"):
        allow = ctx.settings.socket_query_token
        token = await socket_credential(request.query_params, ctx.tickets, allow_token=allow)
    principal = await ctx.verifier.verify(token)
    request.scope[USER_ID_KEY] = principal.user_id  # type: ignore[literal-required]
    structlog.contextvars.bind_contextvars(user_id=principal.user_id)
    return principal


async def provide_internal_caller(request: Request[Any, Any, Any], ctx: Ctx) -> InternalCall:
    """The ``internal`` dependency: the request carries the internal API key."""
    check_internal_key(request.headers.get(INTERNAL_KEY_HEADER), ctx.settings.internal_api_key)
    return InternalCall(service=request.headers.get("x-calling-service"))


def service_router(ctx: ServiceContext) -> Router:
    """A service's routes with its context, envelope and name attached.

    ``spec.routes`` names a list of handlers, or a function of the settings returning one
    (for routes that exist only when a setting enables them).
    """
    found = import_string(ctx.spec.routes) if ctx.spec.routes else []
    handlers: list[ControllerRouterHandler] = list(
        found(ctx.settings) if callable(found) else found
    )
    if ctx.spec.event_handlers:
        from wealist.core.events import events_route

        handlers.append(events_route(ctx.name, import_string(ctx.spec.event_handlers)))

    def provide_ctx() -> ServiceContext:
        return ctx

    router = Router(
        path="/",
        route_handlers=handlers,
        dependencies={
            "ctx": Provide(provide_ctx, use_cache=True, sync_to_thread=False),
            "caller": Provide(provide_principal),
            "internal": Provide(provide_internal_caller),
        },
        exception_handlers={Exception: exception_handler(envelope(ctx.spec.name))},
        opt={"service": ctx.spec.name},
        # Idempotency-Key on POST, where the service's database holds the kernel's tables.
        middleware=[idempotency_middleware(ctx)] if ctx.spec.outbox and ctx.db else [],
    )
    _document_errors(router, ctx.spec.name)
    return router


# Statuses any route may answer with the service's error envelope (bad input, token,
# access, missing, conflict, body too large, throttled, a dependency down).
ERROR_STATUSES = (400, 401, 403, 404, 409, 413, 429, 503)


def _document_errors(router: Router, service: str) -> None:
    """Declare the service's own error envelope in its OpenAPI document, replacing the
    framework's default 400 shape that no response of ours has."""
    spec = ResponseSpec(
        data_container=envelope_schema(service),
        generate_examples=False,
        description="Error, in the service's envelope",
    )
    for route in router.routes:
        for handler in getattr(route, "route_handlers", ()):
            if isinstance(handler, HTTPRouteHandler):
                declared = dict(handler.responses or {})
                handler.responses = {**dict.fromkeys(ERROR_STATUSES, spec), **declared}


def _cors(settings: CoreSettings) -> CORSConfig:
    if "*" in settings.cors_origins:
        raise ValueError("WEALIST_CORS_ORIGINS: '*' is not allowed with credentials; list origins")
    return CORSConfig(
        allow_origins=list(settings.cors_origins),
        allow_credentials=True,
        allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
        allow_headers=CORS_HEADERS,
        # X-Next-Cursor: keyset pages; Idempotent-Replayed: a retry got the first answer
        expose_headers=["X-Request-ID", "X-Next-Cursor", "Idempotent-Replayed"],
        max_age=86400,
    )


def _metrics_route(runtime: Runtime) -> Any:
    @get("/metrics", include_in_schema=False, sync_to_thread=False)
    def metrics() -> Response[bytes]:
        return Response(runtime.metrics.render(), media_type=CONTENT_TYPE_LATEST)

    return metrics


def _assemble(
    contexts: Sequence[ServiceContext],
    runtime: Runtime,
    settings: CoreSettings,
    *,
    title: str,
    default_envelope: str,
) -> Litestar:
    @asynccontextmanager
    async def lifespan(_: Litestar) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            stack.push_async_callback(runtime.close)
            for ctx in contexts:
                await stack.enter_async_context(ctx.lifespan())
            if settings.drain_on_sigterm:  # under `wealist serve` (Granian), see core.shutdown
                hubs = [ctx.hub for ctx in contexts if ctx.hub is not None]
                stack.enter_context(runtime.shutdown.on_sigterm(hubs, settings.shutdown_drain_s))
            yield

    prefixes = sorted({p for ctx in contexts for p in ctx.spec.health_prefixes})
    app = Litestar(
        route_handlers=[
            *[service_router(ctx) for ctx in contexts],
            *health_routes(contexts, prefixes),
            *blob_routes(contexts),
            _metrics_route(runtime),
        ],
        lifespan=[lifespan],
        cors_config=_cors(settings),
        exception_handlers={Exception: exception_handler(envelope(default_envelope))},
        request_max_body_size=settings.max_body_bytes,
        request_class=GuardedRequest,
        openapi_config=OpenAPIConfig(
            title=title, version="1.0.0", path="/schema", render_plugins=[JsonRenderPlugin()]
        ),
        logging_config=None,
        debug=False,
    )
    app.state["contexts"] = {ctx.name: ctx for ctx in contexts}
    # Outermost layer, around routing itself: unmatched routes (404/405), CORS preflights
    # and errors get a request id, an access line and metrics too. Litestar's own
    # middleware list only wraps matched routes. Outside it, the count of what is in flight
    # that a graceful shutdown waits for.
    lane = FastLane(max_body=settings.max_body_bytes)
    for ctx in contexts:
        found = import_string(ctx.spec.fast_routes) if ctx.spec.fast_routes else []
        routes = found(ctx.settings) if callable(found) else found
        lane.add(routes, ctx, error_reply(envelope(ctx.spec.name)), ctx.spec.name)
    fallback = error_reply(envelope(default_envelope))
    lane.add(live_routes(prefixes), contexts[0], fallback, default_envelope)
    app.asgi_handler = runtime.shutdown.track(
        RequestContextMiddleware(app.asgi_handler, runtime.metrics, default_envelope, lane)
    )
    return app


def build_app(
    spec: ServiceSpec,
    settings: CoreSettings | None = None,
    *,
    keys: KeySet | None = None,
    configure_logs: bool = True,
) -> Litestar:
    """The ASGI app of one service. Settings default to the environment."""
    from wealist.core.settings import load_settings

    settings = settings or load_settings(spec.settings, spec.name)
    if configure_logs:
        configure_logging(spec.name, settings.log_level, settings.log_format)
    runtime = Runtime()
    ctx = ServiceContext(spec, settings, runtime, keys)
    return _assemble(
        [ctx], runtime, settings, title=f"wealist {spec.name}", default_envelope=spec.name
    )


def build_stack_app(
    specs: Sequence[ServiceSpec],
    settings: dict[str, CoreSettings] | None = None,
    *,
    keys: KeySet | None = None,
    configure_logs: bool = True,
) -> Litestar:
    """Every service in one app on one port (local use and end-to-end tests)."""
    from wealist.core.settings import load_settings

    chosen = settings or {s.name: load_settings(s.settings, s.name) for s in specs}
    first = chosen[specs[0].name]
    if configure_logs:
        configure_logging("all", first.log_level, first.log_format)
    runtime = Runtime()
    contexts = [ServiceContext(s, chosen[s.name], runtime, keys) for s in specs]
    return _assemble(contexts, runtime, first, title="wealist", default_envelope="user")


def route_lines(app: Litestar) -> list[str]:
    """``METHOD /path`` per route (``WS /path`` for sockets), sorted; the CLI's format."""
    lines: set[str] = set()
    for route in app.routes:
        path = _plain_path(route.path)
        if isinstance(route, WebSocketRoute):
            lines.add(f"WS {path}")
            continue
        for method in getattr(route, "methods", ()):
            if method == "OPTIONS" and _is_generated_options(route):
                continue
            lines.add(f"{method} {path}")
    return sorted(lines, key=lambda line: (line.split(" ", 1)[1], line.split(" ", 1)[0]))


def _plain_path(path: str) -> str:
    # Litestar writes "{workspaceId:str}"; tooling expects "{workspaceId}".
    out, i = [], 0
    while i < len(path):
        ch = path[i]
        if ch == "{":
            end = path.index("}", i)
            out.append("{" + path[i + 1 : end].split(":", 1)[0] + "}")
            i = end + 1
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def _is_generated_options(route: Any) -> bool:
    handler_map = getattr(route, "route_handler_map", {})
    handler = handler_map.get("OPTIONS")
    if handler is None:
        return True
    handler = handler[0] if isinstance(handler, tuple) else handler
    return (
        bool(getattr(handler, "is_auto_generated", False))
        or handler.handler_name == "options_handler"
    )
