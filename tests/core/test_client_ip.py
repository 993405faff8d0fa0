"""The client address behind a trusted gateway: exact addresses and whole networks."""

from __future__ import annotations

import pytest

from wealist.core.ratelimit import client_ip, is_trusted

TRUSTED = ["127.0.0.1", "10.0.0.0/8", "fd00::/8"]


@pytest.mark.parametrize(
    ("peer", "expected"),
    [
        ("127.0.0.1", True),
        ("10.42.7.9", True),  # a gateway pod, wherever it was scheduled
        ("fd00::17", True),
        ("11.0.0.1", False),
        ("127.0.0.2", False),
        ("unknown", False),
    ],
)
def test_trusted_peers_are_addresses_or_networks(peer: str, expected: bool) -> None:
    assert is_trusted(peer, TRUSTED) is expected


def test_only_a_trusted_peer_may_name_the_client() -> None:
    assert client_ip("10.1.2.3", "203.0.113.9, 198.51.100.4", TRUSTED) == "198.51.100.4"
    assert client_ip("192.0.2.1", "198.51.100.4", TRUSTED) == "192.0.2.1"
    assert client_ip("10.1.2.3", "not-an-ip", TRUSTED) == "10.1.2.3"
    assert is_trusted("10.0.0.1", ["garbage", "10.0.0.1"])
