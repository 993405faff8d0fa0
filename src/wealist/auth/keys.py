"""The auth service's signing keys: one active private key, published public keys.

Keys always come from settings (PEM text or ``*_FILE``): a key generated per process
would make tokens from one replica fail on another.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey

from wealist.auth.settings import AuthSettings
from wealist.core.settings import SettingsError

__all__ = ("KeyRing", "load_keyring")

MIN_KEY_BITS = 2048


@dataclass(frozen=True, slots=True)
class KeyRing:
    kid: str
    private: RSAPrivateKey
    public: dict[str, RSAPublicKey]  # kid -> key, every key the JWKS publishes

    def jwks(self) -> dict[str, list[dict[str, str]]]:
        """The public JWKS document: only ``kty``/``use``/``alg``/``kid``/``n``/``e``."""
        return {"keys": [_jwk(kid, key) for kid, key in self.public.items()]}


def _b64(value: int) -> str:
    raw = value.to_bytes((value.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _jwk(kid: str, key: RSAPublicKey) -> dict[str, str]:
    numbers = key.public_numbers()
    return {
        "kty": "RSA",
        "use": "sig",
        "alg": "RS256",
        "kid": kid,
        "n": _b64(numbers.n),
        "e": _b64(numbers.e),
    }


def _private(pem: str, variable: str) -> RSAPrivateKey:
    try:
        key = serialization.load_pem_private_key(pem.encode(), password=None)
    except (ValueError, TypeError) as exc:
        raise SettingsError(f"{variable}: not a PEM private key ({exc})") from exc
    if not isinstance(key, RSAPrivateKey) or key.key_size < MIN_KEY_BITS:
        raise SettingsError(f"{variable}: must be an RSA key of at least {MIN_KEY_BITS} bits")
    return key


def _public(pem: str, variable: str) -> RSAPublicKey:
    try:
        key = serialization.load_pem_public_key(pem.encode())
    except (ValueError, TypeError) as exc:
        raise SettingsError(f"{variable}: not a PEM public key ({exc})") from exc
    if not isinstance(key, RSAPublicKey):
        raise SettingsError(f"{variable}: must be an RSA public key")
    return key


def load_keyring(settings: AuthSettings) -> KeyRing:
    """The keys named by settings; a missing or bad key stops the service with a hint."""
    if not settings.jwt_private_key:
        raise SettingsError(
            "WEALIST_AUTH_JWT_PRIVATE_KEY (or ..._FILE) is not set: the auth service needs "
            "an RSA signing key shared by all its replicas. Create one with "
            "`wealist keygen > auth-key.pem` and point WEALIST_AUTH_JWT_PRIVATE_KEY_FILE at it."
        )
    private = _private(settings.jwt_private_key, "WEALIST_AUTH_JWT_PRIVATE_KEY")
    public = {settings.jwt_key_id: private.public_key()}
    for kid, pem, name in (
        (settings.jwt_previous_key_id, settings.jwt_previous_public_key, "PREVIOUS"),
        (settings.jwt_next_key_id, settings.jwt_next_public_key, "NEXT"),
    ):
        if not pem:
            continue
        variable = f"WEALIST_AUTH_JWT_{name}_PUBLIC_KEY"
        if not kid or kid == settings.jwt_key_id:
            raise SettingsError(
                f"WEALIST_AUTH_JWT_{name}_KEY_ID: set a kid distinct from the active one"
            )
        public[kid] = _public(pem, variable)
    return KeyRing(settings.jwt_key_id, private, public)
