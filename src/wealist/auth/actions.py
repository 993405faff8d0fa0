"""The auth service's logic: tokens, sessions, password and OIDC login. Framework-free.

Transports hand in plain values (the presented token, the client IP, the User-Agent) and
get back wire structs or an :class:`~wealist.core.errors.AppError`.
"""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import Awaitable, Iterator
from dataclasses import dataclass
from urllib.parse import urlencode

import httpx
import structlog
from redis.asyncio import Redis
from redis.exceptions import RedisError

from wealist.auth import store
from wealist.auth.keys import KeyRing
from wealist.auth.oidc import IdentityClaims, OidcClient, OidcError
from wealist.auth.passwords import hash_password, password_problem, verify_password
from wealist.auth.revocations import Revocations
from wealist.auth.schemas import SessionOut, TokenPair, ValidateReply
from wealist.auth.settings import AuthSettings
from wealist.auth.throttle import LoginThrottle
from wealist.auth.tokens import Minter, new_jti
from wealist.core.db import Database
from wealist.core.errors import (
    AppError,
    Conflict,
    Forbidden,
    NotFound,
    ServiceUnavailable,
    TokenReason,
    TokenRejected,
    TooManyRequests,
    Unauthorized,
    ValidationFailed,
)
from wealist.core.internal import InternalClient
from wealist.core.security import Principal, TokenVerifier

__all__ = ("Auth", "InvalidCredentials")

log = structlog.get_logger("wealist.auth")


class InvalidCredentials(Unauthorized):
    code = "INVALID_CREDENTIALS"
    default_message = "Invalid email or password"  # the same for an unknown email


@dataclass(frozen=True, slots=True)
class Auth:
    """What the actions need, built once at startup (``hooks.auth_runtime``)."""

    settings: AuthSettings
    db: Database
    redis: Redis
    keys: KeyRing
    minter: Minter
    verifier: TokenVerifier
    revocations: Revocations
    throttle: LoginThrottle
    oidc: OidcClient
    internal: InternalClient


# --- tokens and sessions ----------------------------------------------------------------


async def open_session(
    auth: Auth, user_id: uuid.UUID, email: str | None, method: str, user_agent: str
) -> TokenPair:
    """A new refresh family (session) and its first token pair."""
    session_id, jti = uuid.uuid4(), new_jti()
    async with auth.db.connection() as conn:
        expires_at = await store.create_session(
            conn,
            id=session_id,
            user_id=user_id,
            email=email,
            method=method,
            jti=jti,
            user_agent=user_agent[:256],
            max_age_s=auth.settings.session_max_age_s,
        )
    return _pair(
        auth,
        user_id=str(user_id),
        session_id=str(session_id),
        jti=jti,
        session_expires=int(expires_at.timestamp()),
        email=email,
    )


def _pair(
    auth: Auth, *, user_id: str, session_id: str, jti: str, session_expires: int, email: str | None
) -> TokenPair:
    refresh_exp = min(int(time.time()) + auth.settings.refresh_token_ttl_s, session_expires)
    access = auth.minter.access(user_id, session_id, email)
    refresh = auth.minter.refresh(user_id, session_id, jti=jti, expires_at=refresh_exp, email=email)
    return TokenPair(access.token, refresh.token, user_id)


async def do_refresh(auth: Auth, refresh_token: str) -> TokenPair:
    """Rotate: the presented token must be its family's current one (RFC 9700 §4.14).

    A token that was already rotated means it was copied: the whole family is revoked,
    including the access tokens issued under it, and a security event is logged.
    """
    claims = await auth.verifier.claims(refresh_token, "refresh")
    user_id, jti = uuid.UUID(claims["sub"]), str(claims["jti"])
    try:
        session_id = uuid.UUID(str(claims.get("sid")))
    except ValueError:
        raise TokenRejected(TokenReason.INVALID) from None
    new = new_jti()
    async with auth.db.transaction() as tx:
        rotated = await store.rotate_session(tx, session_id, user_id, jti, new)
        if rotated is None:
            state = await store.get_session(tx, session_id)
            if state is None or state.user_id != user_id:
                raise TokenRejected(TokenReason.INVALID)
            if state.revoked_at is not None:
                raise TokenRejected(TokenReason.REVOKED)
            if state.expires_at.timestamp() <= time.time():
                raise TokenRejected(TokenReason.EXPIRED)
            await store.revoke_session(tx, session_id, user_id, "refresh_token_reuse")
            auth.revocations.sessions_revoked(tx, [session_id])
    if rotated is None:
        log.warning("auth.refresh_token_reuse", session_id=str(session_id), user_id=str(user_id))
        raise TokenRejected(TokenReason.REVOKED)
    return _pair(
        auth,
        user_id=str(user_id),
        session_id=str(session_id),
        jti=new,
        session_expires=int(rotated.expires_at.timestamp()),
        email=rotated.email,
    )


async def do_logout(auth: Auth, caller: Principal) -> None:
    """Revoke the presented access token and its whole session."""
    async with auth.db.transaction() as tx:
        await auth.revocations.revoke_token(tx, caller.jti, caller.expires_at)
        if caller.session_id:
            session_id = uuid.UUID(caller.session_id)
            await store.revoke_session(tx, session_id, uuid.UUID(caller.user_id), "logout")
            auth.revocations.sessions_revoked(tx, [session_id])


async def do_validate(auth: Auth, token: str) -> ValidateReply:
    try:
        principal = await auth.verifier.verify(token)
    except TokenRejected as exc:
        return ValidateReply(valid=False, message=exc.message, code=exc.legacy_code)
    return ValidateReply(valid=True, message="Token is valid", user_id=principal.user_id)


async def list_sessions(auth: Auth, caller: Principal) -> list[SessionOut]:
    async with auth.db.connection() as conn:
        rows = await store.list_live_sessions(conn, uuid.UUID(caller.user_id))
    return [
        SessionOut(
            id=str(row.id),
            method=row.method,
            user_agent=row.user_agent,
            created_at=row.created_at,
            last_used_at=row.last_used_at,
            expires_at=row.expires_at,
            current=str(row.id) == caller.session_id,
        )
        for row in rows
    ]


async def do_revoke_session(auth: Auth, caller: Principal, session_id: str) -> None:
    """End one of the caller's own sessions; another user's id is simply not found."""
    try:
        wanted = uuid.UUID(session_id)
    except ValueError:
        raise NotFound("Session not found") from None
    async with auth.db.transaction() as tx:
        if not await store.revoke_session(tx, wanted, uuid.UUID(caller.user_id), "user"):
            raise NotFound("Session not found")
        auth.revocations.sessions_revoked(tx, [wanted])


async def do_revoke_other_sessions(auth: Auth, caller: Principal) -> int:
    keep = uuid.UUID(caller.session_id) if caller.session_id else uuid.UUID(int=0)
    async with auth.db.transaction() as tx:
        ended = await store.revoke_other_sessions(tx, uuid.UUID(caller.user_id), keep, "user")
        auth.revocations.sessions_revoked(tx, ended)
    return len(ended)


# --- users (the user service owns them) ---------------------------------------------------


async def _user_for(
    auth: Auth, email: str, name: str, provider: str, *, create_only: bool
) -> uuid.UUID:
    """Find or create the user through the user service's internal route."""
    url = f"{auth.settings.user_service_url.rstrip('/')}/api/internal/oauth/login"
    body = {"email": email, "name": name, "provider": provider, "createOnly": create_only}
    response = await auth.internal.request("POST", url, json=body)
    if response.status_code == 409:
        raise Conflict("An account with this email already exists", code="ALREADY_EXISTS")
    if response.status_code == 403:
        raise Forbidden("This account is disabled")
    if response.status_code == 400:  # an email or name the user service refuses: bad input
        raise ValidationFailed(_refusal(response) or "email or name is not valid")
    if response.status_code != 200:
        log.error("auth.user_service_error", status=response.status_code)
        raise ServiceUnavailable("User service unavailable", code="AUTH008")
    try:
        return uuid.UUID(str(response.json()["userId"]))
    except (ValueError, KeyError, TypeError) as exc:
        raise ServiceUnavailable("User service unavailable", code="AUTH008") from exc


def _refusal(response: httpx.Response) -> str:
    """The message of the user service's ``{error:{code,message}}`` refusal, if any."""
    try:
        message = response.json()["error"]["message"]
    except (ValueError, KeyError, TypeError):
        return ""
    return message if isinstance(message, str) else ""


# --- password accounts ---------------------------------------------------------------------


def _normalized(email: str) -> str:
    return email.strip().lower()


@contextlib.contextmanager
def _redis_required() -> Iterator[None]:
    """Sign-in state (throttles, OAuth state) lives in Redis: without it, refuse with 503."""
    try:
        yield
    except (RedisError, OSError) as exc:
        raise ServiceUnavailable("Sign-in is temporarily unavailable, try again shortly") from exc


async def _budget(check: Awaitable[int]) -> None:
    """Await a throttle check; refuse when over budget or when Redis cannot say."""
    with _redis_required():
        wait = await check
    if wait:
        raise TooManyRequests(
            "Too many attempts, try again later", headers={"Retry-After": str(wait)}
        )


async def do_signup(
    auth: Auth, *, email: str, password: str, name: str, client_ip: str, user_agent: str
) -> TokenPair:
    email = _normalized(email)
    problem = password_problem(password, email)
    if problem:
        raise ValidationFailed(problem)
    await _budget(auth.throttle.signup_ip(client_ip))
    password_hash = await hash_password(password)
    # createOnly: signing up with somebody else's email must never attach to their user.
    user_id = await _user_for(auth, email, name, "local", create_only=True)
    async with auth.db.connection() as conn:
        if not await store.create_password_account(conn, user_id, email, password_hash):
            raise Conflict("An account with this email already exists", code="ALREADY_EXISTS")
    log.info("auth.signup", user_id=str(user_id))
    return await open_session(auth, user_id, email, "password", user_agent)


async def do_login(
    auth: Auth, email: str, password: str, client_ip: str, user_agent: str
) -> TokenPair:
    email = _normalized(email)
    await _budget(auth.throttle.login_ip(client_ip))
    await _budget(auth.throttle.account_wait(email))
    async with auth.db.connection() as conn:
        account = await store.get_password_account(conn, email)
    ok, rehash = await verify_password(account.password_hash if account else None, password)
    if not ok or account is None:
        with _redis_required():
            await auth.throttle.failed(email)
        log.info("auth.login_failed", client_ip=client_ip)
        raise InvalidCredentials
    try:
        await auth.throttle.succeeded(email)
    except (RedisError, OSError):
        log.warning("auth.throttle_reset_failed")
    if rehash:
        async with auth.db.connection() as conn:
            await store.update_password_hash(conn, account.user_id, rehash)
    return await open_session(auth, account.user_id, account.email, "password", user_agent)


# --- OIDC login ------------------------------------------------------------------------------


def check_redirect(auth: Auth, redirect: str | None) -> str:
    """The frontend page to return to: exactly one of the allow-list, never a prefix match."""
    if not redirect:
        return auth.settings.oauth_default_redirect
    if redirect not in auth.settings.oauth_redirect_allowlist:
        raise ValidationFailed("redirect_uri is not an allowed frontend address")
    return redirect


async def do_oauth_start(auth: Auth, provider: str, redirect: str | None, binding: str) -> str:
    """The provider URL to send the browser to (after ``check_redirect``)."""
    target = check_redirect(auth, redirect)
    try:
        found = auth.oidc.provider(provider)
        with _redis_required():
            return await auth.oidc.start(found, target, binding)
    except OidcError as exc:
        if exc.reason == "unknown_provider":
            raise NotFound("Unknown login provider") from exc
        raise ServiceUnavailable("The login provider cannot be reached") from exc


def _failure(auth: Auth, reason: str) -> str:
    separator = "&" if "?" in auth.settings.oauth_failure_redirect else "?"
    return f"{auth.settings.oauth_failure_redirect}{separator}{urlencode({'error': reason})}"


def _delivered(auth: Auth, redirect: str, pair: TokenPair) -> str:
    params = urlencode(
        {
            "accessToken": pair.access_token,
            "refreshToken": pair.refresh_token,
            "userId": pair.user_id,
        }
    )
    if auth.settings.oauth_return_mode == "query":
        return f"{redirect}{'&' if '?' in redirect else '?'}{params}"
    return f"{redirect}#{params}"


async def do_oauth_callback(
    auth: Auth,
    *,
    provider: str,
    code: str | None,
    state: str | None,
    error: str | None,
    binding: str | None,
    user_agent: str,
) -> str:
    """Where to send the browser after the provider's redirect: tokens, or ``?error=``."""
    try:
        found = auth.oidc.provider(provider)
        login = await auth.oidc.take_state(state or "", found, binding)
        if error or not code or len(code) > 2048:
            raise OidcError("access_denied" if error else "missing_code")
        identity = await auth.oidc.identify(found, code, login)
        user_id = await _user_of_identity(auth, found.name, identity)
        pair = await open_session(auth, user_id, identity.email, found.name, user_agent)
    except OidcError as exc:
        log.warning("auth.oauth_login_refused", provider=provider, reason=exc.reason)
        return _failure(auth, exc.reason)
    except (RedisError, OSError):
        log.warning("auth.oauth_login_failed", provider=provider, reason="redis")
        return _failure(auth, "temporarily_unavailable")
    except AppError as exc:
        log.warning("auth.oauth_login_failed", provider=provider, reason=exc.code)
        return _failure(
            auth, "account_unavailable" if exc.status < 500 else "temporarily_unavailable"
        )
    log.info("auth.oauth_login", provider=provider, user_id=pair.user_id)
    return _delivered(auth, login.redirect, pair)


async def _user_of_identity(auth: Auth, provider: str, identity: IdentityClaims) -> uuid.UUID:
    """The user keyed by (issuer, subject); a new identity links by verified email only."""
    async with auth.db.connection() as conn:
        known = await store.find_identity(conn, identity.issuer, identity.subject, identity.email)
    if known is not None:
        return known
    if not identity.email or not identity.email_verified:
        # An unverified email must never attach this login to an existing account.
        raise OidcError("email_not_verified")
    user_id = await _user_for(
        auth, _normalized(identity.email), identity.name, provider, create_only=False
    )
    async with auth.db.connection() as conn:
        return await store.link_identity(
            conn, identity.issuer, identity.subject, user_id, identity.email
        )


# --- test tokens (load tests only) -----------------------------------------------------------


async def do_test_token(
    auth: Auth, user_id: uuid.UUID | None, email: str | None, ua: str
) -> TokenPair:
    return await open_session(auth, user_id or uuid.uuid4(), email, "test", ua)
