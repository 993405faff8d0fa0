"""Settings of the auth service (``WEALIST_AUTH_*``), on top of the shared ones."""

from __future__ import annotations

import msgspec

from wealist.contracts.addresses import DEFAULT_PORTS
from wealist.core.settings import CoreSettings

__all__ = ("AuthSettings", "OidcProviderSettings")


class OidcProviderSettings(msgspec.Struct, frozen=True, kw_only=True):
    """One OpenID Connect provider, found through ``{issuer}/.well-known/openid-configuration``."""

    issuer: str
    client_id: str
    client_secret: str = ""
    scopes: str = "openid email profile"


class AuthSettings(CoreSettings, frozen=True, kw_only=True):
    # Signing keys: PEM text, or a file through ``..._FILE``. The previous key stays in the
    # JWKS so tokens it signed keep verifying until they expire; the next key is published
    # ahead of use so every verifier knows it before the first token it signs.
    jwt_private_key: str = ""
    jwt_key_id: str = "wealist-auth-key-1"
    jwt_previous_public_key: str = ""
    jwt_previous_key_id: str = ""
    jwt_next_public_key: str = ""
    jwt_next_key_id: str = ""

    access_token_ttl_s: int = 900
    socket_ticket_ttl_s: float = 30.0  # a ?ticket= for a socket or stream URL (core.tickets)
    refresh_token_ttl_s: int = 7 * 24 * 3600
    session_max_age_s: int = 30 * 24 * 3600  # absolute: rotation never extends a family
    # How clients reach this service (a gateway's URL in production); default: this
    # process's own address, http://<host>:<port> (127.0.0.1 when it listens on all).
    public_url: str = ""

    # OIDC login. Google is configured by its client id; other providers by issuer URL
    # (JSON: {"kakao": {"issuer": "https://kauth.kakao.com", "client_id": "..."}}).
    google_client_id: str = ""
    google_client_secret: str = ""
    google_issuer: str = "https://accounts.google.com"
    oidc_providers: dict[str, OidcProviderSettings] = msgspec.field(default_factory=dict)
    # The callback URL registered at the providers (a constant, as RFC 9700 asks);
    # default: <public_url>/oauth2/callback/{provider}.
    oauth_callback_url: str = ""
    # Frontend pages a login may return to, compared exactly (no prefix matching).
    oauth_redirect_allowlist: list[str] = msgspec.field(
        default_factory=lambda: ["http://localhost:3000/oauth/callback"]
    )
    oauth_default_redirect: str = "http://localhost:3000/oauth/callback"
    oauth_failure_redirect: str = "http://localhost:3000/login"
    # "fragment" keeps tokens out of server logs, history sync and Referer headers;
    # "query" is what the original frontend reads (?accessToken=&refreshToken=&userId=).
    oauth_return_mode: str = "fragment"
    oauth_state_ttl_s: int = 600
    cookie_secure: bool = True

    # Password login throttling (Redis): attempts per client IP per minute, and the
    # failures an account absorbs before an exponential delay (capped) sets in.
    login_ip_limit_per_min: int = 10
    signup_ip_limit_per_min: int = 5
    login_account_free_failures: int = 5
    login_account_max_delay_s: int = 900
    trusted_proxies: list[str] = msgspec.field(default_factory=lambda: ["127.0.0.1", "::1"])

    # POST /api/test/token mints tokens for any user id: load tests only, never production.
    test_auth_enabled: bool = False

    @property
    def advertised_url(self) -> str:
        """Where clients reach this service: ``public_url``, else this process's port."""
        if self.public_url:
            return self.public_url.rstrip("/")
        host = "127.0.0.1" if self.host in ("", "0.0.0.0", "::") else self.host  # noqa: S104
        host = f"[{host}]" if ":" in host else host
        return f"http://{host}:{self.port or DEFAULT_PORTS['auth']}"

    @property
    def callback_url(self) -> str:
        """The OAuth callback URL, with ``{provider}`` still to fill in."""
        return self.oauth_callback_url or f"{self.advertised_url}/oauth2/callback/{{provider}}"
