"""Access tokens: the negative corpus is refused with 401 by every service; valid ones pass."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from redis.asyncio import Redis

from tests.core.test_errors import error_of
from tests.plugins.harness import TokenIssuer
from wealist.auth.revocations import publish_revocations
from wealist.contracts.keys import REVOCATIONS_LOADED, session_entry
from wealist.core.security import JwksKeySet, PushedRevocations, bearer_token
from wealist.devstack.servers import free_port
from wealist.services import SERVICES

PROBE = "tests.core.probe:ROUTES"


def revocations_of(client: Any, service: str) -> PushedRevocations:
    """The revocation list an in-process app verifies against."""
    found: PushedRevocations = client.app.state["contexts"][service].revocations
    return found


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def forge_hs256_with_public_key(issuer: TokenIssuer) -> str:
    """The classic key-confusion attack: HMAC-sign with the RSA public key as the secret."""
    key = issuer.keys[0]
    header = _b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": key.kid}).encode())
    payload = _b64(json.dumps(issuer.claims()).encode())
    signing_input = f"{header}.{payload}".encode()
    signature = hmac.new(key.public_pem, signing_input, hashlib.sha256).digest()
    return f"{header}.{payload}.{_b64(signature)}"


def unsigned_alg_none(issuer: TokenIssuer) -> str:
    header = _b64(json.dumps({"alg": "none", "typ": "JWT", "kid": issuer.keys[0].kid}).encode())
    return f"{header}.{_b64(json.dumps(issuer.claims()).encode())}."


def negative_corpus(issuer: TokenIssuer) -> dict[str, tuple[str | None, str]]:
    """case -> (Authorization header value or None, the auth service's legacy code)."""
    stranger = TokenIssuer.new_key()  # not in the JWKS
    now = int(time.time())
    forged_sig = issuer.token()
    head, signature = forged_sig.split(".")[0], forged_sig.split(".")[2]
    other = jwt.encode(
        issuer.claims(), stranger.private, algorithm="RS256", headers={"kid": issuer.keys[0].kid}
    )
    return {
        "missing": (None, "AUTH007"),
        "not bearer": ("Basic dXNlcjpwYXNz", "AUTH007"),
        "garbage": ("Bearer not-a-jwt", "AUTH004"),
        "alg none": (f"Bearer {unsigned_alg_none(issuer)}", "AUTH005"),
        "hs256 with the public key": (f"Bearer {forge_hs256_with_public_key(issuer)}", "AUTH005"),
        "unknown kid": (f"Bearer {issuer.token(key=stranger)}", "AUTH001"),
        "signed by another key": (f"Bearer {other}", "AUTH003"),
        "tampered payload": (
            f"Bearer {head}.{_b64(json.dumps(issuer.claims()).encode())}.{signature}",
            "AUTH003",
        ),
        "expired": (f"Bearer {issuer.token(exp=now - 3600, iat=now - 4000)}", "AUTH002"),
        # our key, but minted for another API (or for none): not ours to accept
        "another audience": (f"Bearer {issuer.token(aud='some-other-api')}", "AUTH001"),
        "only other audiences": (
            f"Bearer {issuer.token(aud=['some-other-api', 'x'])}",
            "AUTH001",
        ),
        "no audience": (f"Bearer {issuer.token(aud=None)}", "AUTH001"),
        "wrong issuer": (f"Bearer {issuer.token(iss='https://evil.example')}", "AUTH001"),
        "refresh token as access": (f"Bearer {issuer.token(type='refresh')}", "AUTH001"),
        "no type": (f"Bearer {issuer.token(type=None)}", "AUTH001"),
        "no jti": (f"Bearer {issuer.token(jti=None)}", "AUTH001"),
        "subject not a uuid": (f"Bearer {issuer.token('admin')}", "AUTH001"),
        "jku header": (
            f"Bearer {issuer.token(headers={'jku': 'https://evil.example/jwks'})}",
            "AUTH005",
        ),
        "x5u header": (
            f"Bearer {issuer.token(headers={'x5u': 'https://evil.example/c'})}",
            "AUTH005",
        ),
        "jwk header": (f"Bearer {issuer.token(headers={'jwk': {'kty': 'RSA'}})}", "AUTH005"),
        "rs512": (f"Bearer {_signed_with(issuer, 'RS512')}", "AUTH005"),
        "ps256": (f"Bearer {_signed_with(issuer, 'PS256')}", "AUTH005"),
        "es256": (f"Bearer {_es256(issuer)}", "AUTH005"),
        "kid path traversal": (
            f"Bearer {issuer.token(headers={'kid': '../../etc/passwd'})}",
            "AUTH001",
        ),
        "kid with a quote and NUL": (
            "Bearer " + issuer.token(headers={"kid": "k'\x00"}),
            "AUTH001",
        ),
        "kid over 1 KB": (f"Bearer {issuer.token(headers={'kid': 'k' * 1100})}", "AUTH001"),
        "no exp": (f"Bearer {issuer.token(exp=None)}", "AUTH001"),
        "nbf in the future": (f"Bearer {issuer.token(nbf=now + 3600)}", "AUTH001"),
        "id token as access": (f"Bearer {issuer.token(type='id')}", "AUTH001"),
        "a google id token": (
            "Bearer "
            + issuer.token(
                key=stranger, iss="https://accounts.google.com", aud="web-client", type=None
            ),
            "AUTH001",
        ),
        "over 8 KB": (f"Bearer {issuer.token(pad='x' * 9000)}", "AUTH004"),
        "truncated (no signature)": (f"Bearer {forged_sig.rsplit('.', 1)[0]}", "AUTH004"),
        "bad base64": ("Bearer !!!.@@@.###", "AUTH004"),
    }


def _signed_with(issuer: TokenIssuer, algorithm: str) -> str:
    key = issuer.keys[0]
    return jwt.encode(issuer.claims(), key.private, algorithm=algorithm, headers={"kid": key.kid})


def _es256(issuer: TokenIssuer) -> str:
    private = ec.generate_private_key(ec.SECP256R1())
    return jwt.encode(
        issuer.claims(), private, algorithm="ES256", headers={"kid": issuer.keys[0].kid}
    )


@pytest.mark.parametrize("service", list(SERVICES))
async def test_every_service_refuses_the_negative_corpus(
    app_client, issuer: TokenIssuer, service: str
) -> None:
    corpus = negative_corpus(issuer)
    async with app_client(service, routes=PROBE) as client:
        for case, (authorization, legacy_code) in corpus.items():
            headers = {"Authorization": authorization} if authorization else {}
            r = await client.get("/probe/me", headers=headers)
            assert r.status_code == 401, (case, r.text)
            code, message = error_of(service, r.json())
            assert code == (legacy_code if service == "auth" else "UNAUTHORIZED"), case
            assert message
            assert r.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize("service", list(SERVICES))
async def test_every_service_accepts_a_valid_token(
    app_client, issuer: TokenIssuer, service: str
) -> None:
    user_id = str(uuid.uuid4())
    async with app_client(service, routes=PROBE) as client:
        r = await client.get(
            "/probe/me",
            headers={"Authorization": f"Bearer {issuer.token(user_id, email='ada@example.com')}"},
        )
        assert r.status_code == 200, r.text
        assert r.json() == {"userId": user_id, "email": "ada@example.com"}
        # the scheme is case-insensitive, as in the original
        r = await client.get(
            "/probe/me", headers={"Authorization": f"bearer {issuer.token(user_id)}"}
        )
        assert r.status_code == 200


async def test_revoked_jti_is_refused(
    app_client, issuer: TokenIssuer, revoke: Callable[[str], Any]
) -> None:
    token = issuer.token()
    async with app_client("board", routes=PROBE) as client:
        headers = {"Authorization": f"Bearer {token}"}
        assert (await client.get("/probe/me", headers=headers)).status_code == 200
        await revoke(token)
        # The push reaches the app's own event loop asynchronously: wait until it is
        # applied (what every revocation published before this call is), then ask.
        assert await revocations_of(client, "board").sync()
        r = await client.get("/probe/me", headers=headers)
        assert r.status_code == 401
        assert error_of("board", r.json())[0] == "UNAUTHORIZED"
    async with app_client("auth", routes=PROBE) as client:  # loaded at start: in the snapshot
        r = await client.get("/probe/me", headers=headers)
        assert r.status_code == 401
        assert r.json()["code"] == "AUTH006"


async def test_a_revoked_session_refuses_every_token_issued_under_it(
    app_client, issuer: TokenIssuer, redis: Redis
) -> None:
    sid = str(uuid.uuid4())
    first, second, other = issuer.token(sid=sid), issuer.token(sid=sid), issuer.token()
    async with app_client("board", routes=PROBE) as client:
        await publish_revocations(redis, [(session_entry(sid), int(time.time()) + 60)])
        assert await revocations_of(client, "board").sync()
        for token, status in ((first, 401), (second, 401), (other, 200)):
            r = await client.get("/probe/me", headers={"Authorization": f"Bearer {token}"})
            assert r.status_code == status


async def test_fails_closed_until_auth_has_loaded_the_revocation_list(
    app_client, issuer: TokenIssuer, redis: Redis
) -> None:
    """After Redis lost its data (FLUSHALL, restart without persistence) nothing is accepted.

    Nothing pushes the marker's loss: the verifier's periodic check finds it (``sync``
    runs that check now instead of within the second)."""
    headers = {"Authorization": f"Bearer {issuer.token()}"}
    async with app_client("board", routes=PROBE) as client:
        revocations = revocations_of(client, "board")
        marker = await redis.get(REVOCATIONS_LOADED)
        await redis.delete(REVOCATIONS_LOADED)
        try:
            assert not await revocations.sync()
            r = await client.get("/probe/me", headers=headers)
            assert r.status_code == 401
            assert error_of("board", r.json())[0] == "UNAUTHORIZED"
        finally:
            await redis.set(REVOCATIONS_LOADED, marker or "1")
        assert await revocations.sync()
        assert (await client.get("/probe/me", headers=headers)).status_code == 200


@pytest.mark.parametrize("service", ["board", "auth"])
async def test_fails_closed_when_redis_cannot_answer(
    app_client, issuer: TokenIssuer, service: str
) -> None:
    dead_redis = f"redis://127.0.0.1:{free_port()}/0"
    async with app_client(service, routes=PROBE, redis_url=dead_redis) as client:
        r = await client.get("/probe/me", headers={"Authorization": f"Bearer {issuer.token()}"})
    assert r.status_code == 401
    assert error_of(service, r.json())[0] == ("AUTH001" if service == "auth" else "UNAUTHORIZED")


async def test_websocket_token_comes_from_the_query(app_client, issuer: TokenIssuer) -> None:
    async with app_client("board", routes=PROBE) as client:
        # ?token= is only for sockets and streams: a plain request must use the header
        r = await client.get(f"/probe/me?token={issuer.token()}")
        assert r.status_code == 401


async def test_unknown_kid_refetches_the_jwks_at_most_once_per_interval(
    issuer: TokenIssuer,
) -> None:
    async with httpx.AsyncClient() as http:
        keys = JwksKeySet(issuer.jwks_url, http, refetch_interval=30.0)
        assert await keys.get(issuer.keys[0].kid) is not None
        assert keys.fetches == 1
        for _ in range(50):
            assert await keys.get(f"made-up-{uuid.uuid4().hex}") is None
        assert keys.fetches == 1  # a flood of unknown kids is one fetch per interval

        fast = JwksKeySet(issuer.jwks_url, http, refetch_interval=0.0)
        rotated = TokenIssuer.new_key()
        assert await fast.get(rotated.kid) is None
        issuer.keys.append(rotated)  # the auth service publishes the next key
        try:
            assert await fast.get(rotated.kid) is not None
            assert await fast.get(issuer.keys[0].kid) is not None  # the previous key still works
        finally:
            issuer.keys.remove(rotated)


def test_bearer_token_parsing() -> None:
    assert bearer_token("Bearer abc") == "abc"
    assert bearer_token("BEARER abc") == "abc"
    assert bearer_token("Bearer") is None
    assert bearer_token("Bearer a b") is None
    assert bearer_token("Token abc") is None
    assert bearer_token(None) is None
