"""A fake OpenID Connect provider served over real HTTP, standing in for Google in tests.

The auth service talks to it exactly as to a real provider: discovery at
``{issuer}/.well-known/openid-configuration``, the browser at ``/authorize`` (which
auto-consents as :attr:`OidcProvider.user`), the code exchange at ``/token``, ID token
verification against ``/jwks`` and ``/userinfo``. It is strict where a real provider is
(single-use codes, exact ``redirect_uri``, PKCE, client authentication), so a login flow
that passes here is not passing by accident. Tests steer it through plain attributes and
read back what it was sent from its request logs.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote_plus, urlencode, urlsplit, urlunsplit

import jwt
import pytest
from typing_extensions import override

from tests.plugins.harness import SigningKey, TokenIssuer

TOKEN_LIFETIME = 3600
SCOPE = "openid email profile"


@dataclass
class OidcUser:
    """Who consents at ``/authorize``; snapshotted into each code when it is minted."""

    sub: str
    email: str
    email_verified: bool = True
    name: str = "Test User"


def default_user() -> OidcUser:
    """A fresh identity, so tests sharing one database never collide on ``sub``/email."""
    tag = uuid.uuid4().hex[:12]
    return OidcUser(sub=f"oidc-{tag}", email=f"user-{tag}@example.com")


def pkce_challenge(verifier: str) -> str:
    """RFC 7636 S256: ``base64url(sha256(verifier))`` without padding."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


@dataclass
class _Grant:
    """What an authorization code is bound to; checked again at ``/token``."""

    client_id: str
    redirect_uri: str
    nonce: str | None
    code_challenge: str | None
    code_challenge_method: str | None
    user: OidcUser
    used: bool = False


@dataclass
class _Reply:
    status: int
    body: bytes = b""
    content_type: str = "text/plain; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)


def _json(status: int, payload: dict[str, Any], **headers: str) -> _Reply:
    return _Reply(status, json.dumps(payload).encode(), "application/json", headers)


def _text(status: int, message: str) -> _Reply:
    return _Reply(status, message.encode())


def _error(status: int, error: str, **headers: str) -> _Reply:
    return _json(status, {"error": error}, **{"Cache-Control": "no-store", **headers})


def _params(raw: str) -> dict[str, str] | None:
    """Query or form parameters; ``None`` when one repeats (OAuth forbids that)."""
    pairs = parse_qsl(raw, keep_blank_values=True)
    found = dict(pairs)
    return found if len(found) == len(pairs) else None


def _with_query(url: str, extra: dict[str, str]) -> str:
    """``url`` with ``extra`` appended to whatever query it already carries."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True) + list(extra.items())
    return urlunsplit(parts._replace(query=urlencode(query)))


class OidcProvider:
    """The provider: a ``ThreadingHTTPServer`` on 127.0.0.1, port 0, in a daemon thread."""

    def __init__(
        self,
        client_id: str = "test-client.apps.example",
        client_secret: str = "test-client-secret-0123456789",
    ) -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        self._initial_keys = [TokenIssuer.new_key()]
        self._lock = threading.Lock()
        self._codes: dict[str, _Grant] = {}
        self._access_tokens: dict[str, OidcUser] = {}
        self.keys: list[SigningKey] = []
        self.user = default_user()
        self.id_token_overrides: dict[str, Any] = {}
        self.authorize_requests: list[dict[str, str]] = []
        self.token_requests: list[dict[str, str]] = []
        self.discovery_hits = 0
        self.jwks_hits = 0
        self.reset()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.issuer = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def reset(self) -> None:
        """Forget everything one test did: overrides, logs, codes, tokens, rotated keys."""
        with self._lock:
            self._codes.clear()
            self._access_tokens.clear()
            self.keys = list(self._initial_keys)
            self.user = default_user()
            self.id_token_overrides = {}
            self.authorize_requests = []
            self.token_requests = []
            self.discovery_hits = 0
            self.jwks_hits = 0

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()

    # --- endpoints ----------------------------------------------------------------------

    def _discovery(self) -> _Reply:
        with self._lock:
            self.discovery_hits += 1
        return _json(
            200,
            {
                "issuer": self.issuer,
                "authorization_endpoint": f"{self.issuer}/authorize",
                "token_endpoint": f"{self.issuer}/token",
                "jwks_uri": f"{self.issuer}/jwks",
                "userinfo_endpoint": f"{self.issuer}/userinfo",
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "code_challenge_methods_supported": ["S256", "plain"],
                "scopes_supported": ["openid", "email", "profile"],
            },
        )

    def _jwks(self) -> _Reply:
        with self._lock:
            self.jwks_hits += 1
            keys = [k.jwk() for k in self.keys]
        return _json(200, {"keys": keys})

    def _authorize(self, query: str) -> _Reply:
        params = _params(query)
        if params is None:
            return _text(400, "repeated parameter")
        with self._lock:
            self.authorize_requests.append(params)
        # Errors are shown to the user, never redirected: the redirect_uri is unverified.
        if params.get("response_type") != "code":
            return _text(400, "unsupported response_type")
        if params.get("client_id") != self.client_id:
            return _text(400, "unknown client_id")
        redirect_uri = params.get("redirect_uri")
        if not redirect_uri:
            return _text(400, "missing redirect_uri")
        state = params.get("state")
        if not state:
            return _text(400, "missing state")
        challenge = params.get("code_challenge") or None
        method = params.get("code_challenge_method") or None
        if challenge is not None:
            method = method or "plain"  # RFC 7636 4.3: the default
            if method not in {"S256", "plain"}:
                return _text(400, "unsupported code_challenge_method")
        elif method is not None:
            return _text(400, "code_challenge_method without code_challenge")
        code = secrets.token_urlsafe(24)
        with self._lock:
            self._codes[code] = _Grant(
                self.client_id,
                redirect_uri,
                params.get("nonce"),
                challenge,
                method,
                replace(self.user),
            )
        location = _with_query(redirect_uri, {"code": code, "state": state})
        return _Reply(302, headers={"Location": location})

    def _client_ok(self, form: dict[str, str], authorization: str | None) -> bool:
        """``client_secret_basic`` when an Authorization header is sent, else ``_post``."""
        if authorization is not None:
            scheme, _, encoded = authorization.partition(" ")
            if scheme.lower() != "basic":
                return False
            try:
                decoded = base64.b64decode(encoded, validate=True).decode()
            except (binascii.Error, UnicodeDecodeError):
                return False
            raw_id, sep, raw_secret = decoded.partition(":")
            if not sep:
                return False
            # RFC 6749 2.3.1: both halves are form-urlencoded before joining.
            client_id, secret = unquote_plus(raw_id), unquote_plus(raw_secret)
            if "client_id" in form and form["client_id"] != client_id:
                return False
        else:
            client_id, secret = form.get("client_id", ""), form.get("client_secret", "")
        return hmac.compare_digest(client_id, self.client_id) and hmac.compare_digest(
            secret, self.client_secret
        )

    def _token(self, body: str, content_type: str, authorization: str | None) -> _Reply:
        form = _params(body)
        with self._lock:
            self.token_requests.append(form or {})
        if form is None:
            return _error(400, "invalid_request")
        media_type = content_type.partition(";")[0].strip().lower()
        if media_type != "application/x-www-form-urlencoded":
            return _error(400, "invalid_request")
        if not self._client_ok(form, authorization):
            extra = {"WWW-Authenticate": 'Basic realm="oidc"'} if authorization else {}
            return _error(401, "invalid_client", **extra)
        if form.get("grant_type") != "authorization_code":
            return _error(400, "unsupported_grant_type")
        with self._lock:
            grant = self._codes.get(form.get("code", ""))
            if grant is None or grant.used:
                return _error(400, "invalid_grant")
            grant.used = True  # single use, whatever the checks below decide
        if grant.client_id != self.client_id or form.get("redirect_uri") != grant.redirect_uri:
            return _error(400, "invalid_grant")
        if grant.code_challenge is not None:
            verifier = form.get("code_verifier")
            if verifier is None:
                return _error(400, "invalid_grant")
            expected = (
                pkce_challenge(verifier) if grant.code_challenge_method == "S256" else verifier
            )
            if not hmac.compare_digest(expected, grant.code_challenge):
                return _error(400, "invalid_grant")
        access_token = secrets.token_urlsafe(32)
        with self._lock:
            self._access_tokens[access_token] = grant.user
        return _json(
            200,
            {
                "access_token": access_token,
                "token_type": "Bearer",
                "expires_in": TOKEN_LIFETIME,
                "id_token": self._id_token(grant),
                "scope": SCOPE,
            },
            **{"Cache-Control": "no-store"},
        )

    def _id_token(self, grant: _Grant) -> str:
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "sub": grant.user.sub,
            "aud": self.client_id,
            "iat": now,
            "exp": now + TOKEN_LIFETIME,
        }
        if grant.nonce is not None:
            claims["nonce"] = grant.nonce
        claims.update(
            email=grant.user.email,
            email_verified=grant.user.email_verified,
            name=grant.user.name,
            azp=self.client_id,
        )
        with self._lock:
            claims.update(self.id_token_overrides)
            signer = self.keys[0]
        claims = {k: v for k, v in claims.items() if v is not None}
        return jwt.encode(claims, signer.private, algorithm="RS256", headers={"kid": signer.kid})

    def _userinfo(self, authorization: str | None) -> _Reply:
        scheme, _, token = (authorization or "").partition(" ")
        with self._lock:
            user = self._access_tokens.get(token) if scheme.lower() == "bearer" else None
        if user is None:
            return _error(
                401, "invalid_token", **{"WWW-Authenticate": 'Bearer error="invalid_token"'}
            )
        return _json(
            200,
            {
                "sub": user.sub,
                "email": user.email,
                "email_verified": user.email_verified,
                "name": user.name,
            },
        )

    # --- HTTP plumbing ------------------------------------------------------------------

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                url = urlsplit(self.path)
                match url.path:
                    case "/.well-known/openid-configuration":
                        self._send(provider._discovery())
                    case "/jwks":
                        self._send(provider._jwks())
                    case "/authorize":
                        self._send(provider._authorize(url.query))
                    case "/userinfo":
                        self._send(provider._userinfo(self.headers.get("Authorization")))
                    case _:
                        self._send(_text(404, "not found"))

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode("utf-8", errors="replace")
                if urlsplit(self.path).path != "/token":
                    self._send(_text(404, "not found"))
                    return
                reply = provider._token(
                    body,
                    self.headers.get("Content-Type", ""),
                    self.headers.get("Authorization"),
                )
                self._send(reply)

            def _send(self, reply: _Reply) -> None:
                self.send_response(reply.status)
                self.send_header("Content-Type", reply.content_type)
                self.send_header("Content-Length", str(len(reply.body)))
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(reply.body)

            @override
            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler


@pytest.fixture(scope="session")
def oidc_provider_server() -> Iterator[OidcProvider]:
    """One provider per session (per xdist worker): RSA key generation is not free."""
    provider = OidcProvider()
    try:
        yield provider
    finally:
        provider.close()


@pytest.fixture
def oidc_provider(oidc_provider_server: OidcProvider) -> OidcProvider:
    """The session provider, reset so no test sees another's user, overrides or logs."""
    oidc_provider_server.reset()
    return oidc_provider_server
