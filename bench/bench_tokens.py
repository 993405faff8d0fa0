"""Access-token verification: a full RS256 check versus the verified-token cache.

Every authenticated request verifies its token locally. The signature check dominates; the
verifier remembers verified tokens until they expire, leaving only the revocation lookup.
Run: ``python bench/bench_tokens.py`` (no servers needed; revocation is an in-memory set).
"""

from __future__ import annotations

import asyncio
import time
import uuid

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

from wealist.core.security import StaticKeySet, TokenVerifier

ROUNDS = 3_000


class NoRevocations:
    async def is_revoked(self, jti: str) -> bool:
        return False


async def main() -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = int(time.time())
    tokens = [
        jwt.encode(
            {
                "sub": str(uuid.uuid4()),
                "iss": "bench",
                "iat": now,
                "exp": now + 900,
                "type": "access",
                "jti": uuid.uuid4().hex,
            },
            key,
            algorithm="RS256",
            headers={"kid": "k1"},
        )
        for _ in range(ROUNDS)
    ]
    keys = StaticKeySet({"k1": key.public_key()})

    cold = TokenVerifier(keys, NoRevocations(), "bench", cache_size=0)
    started = time.perf_counter()
    for token in tokens:
        await cold.verify(token)
    cold_us = (time.perf_counter() - started) / ROUNDS * 1e6

    warm = TokenVerifier(keys, NoRevocations(), "bench")
    await warm.verify(tokens[0])
    started = time.perf_counter()
    for _ in range(ROUNDS):
        await warm.verify(tokens[0])
    warm_us = (time.perf_counter() - started) / ROUNDS * 1e6

    print(f"full verification : {cold_us:8.1f} us/token")
    print(f"cached            : {warm_us:8.1f} us/token")
    print(f"ratio             : {cold_us / warm_us:8.1f}x")


if __name__ == "__main__":
    asyncio.run(main())
