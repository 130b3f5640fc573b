"""Whose address a request is counted against (login and gateway rate limits):
``X-Forwarded-For`` is believed only as far as trusted proxies wrote it, so a
client cannot pick a fresh address per attempt by sending the header itself."""

from __future__ import annotations

import pytest

from services.runtime.client_address import client_address, parse_networks
from services.runtime.settings import Settings, SettingsError

CLUSTER = parse_networks("10.0.0.0/8, ::1")


def test_an_untrusted_peer_is_the_client_whatever_it_forwards() -> None:
    assert client_address("203.0.113.9", "198.51.100.1", CLUSTER) == "203.0.113.9"
    assert client_address("203.0.113.9", None, CLUSTER) == "203.0.113.9"


def test_behind_trusted_proxies_the_first_untrusted_hop_from_the_right_is_the_client() -> None:
    # the client sent a made-up header; the ingress (10.1.0.5) appended the client's real address, the gateway (10.2.0.7) the ingress
    chain = "1.2.3.4, 203.0.113.9, 10.1.0.5"
    assert client_address("10.2.0.7", chain, CLUSTER) == "203.0.113.9"
    # a fresh made-up address on each attempt changes nothing
    assert client_address("10.2.0.7", "5.6.7.8, 203.0.113.9, 10.1.0.5", CLUSTER) == "203.0.113.9"


def test_when_every_hop_is_trusted_the_leftmost_is_the_client() -> None:
    assert client_address("10.2.0.7", "10.9.9.9, 10.1.0.5", CLUSTER) == "10.9.9.9"
    assert client_address("::1", "2001:db8::7", CLUSTER) == "2001:db8::7"


def test_a_garbled_entry_ends_the_walk_at_the_last_trusted_hop() -> None:
    assert client_address("10.2.0.7", "203.0.113.9, not-an-ip", CLUSTER) == "10.2.0.7"
    assert client_address("10.2.0.7", "203.0.113.9:5555", CLUSTER) == "203.0.113.9"
    assert client_address("10.2.0.7", "[2001:db8::1]:443", CLUSTER) == "2001:db8::1"


def test_a_peer_that_is_no_address_is_kept_as_it_is() -> None:
    assert client_address("testclient", "203.0.113.9", CLUSTER) == "testclient"
    assert client_address(None, None, CLUSTER) == "unknown"


def test_trusted_proxies_default_to_loopback_and_a_bad_entry_is_refused() -> None:
    assert Settings.from_env({}).trusted_proxies == ("127.0.0.0/8", "::1/128")
    assert Settings.from_env({"XCISS_TRUSTED_PROXIES": "10.0.0.0/8,192.168.1.7"}).trusted_proxies == ("10.0.0.0/8", "192.168.1.7/32")
    assert Settings.from_env({"XCISS_TRUSTED_PROXIES": ""}).trusted_proxies == ()
    with pytest.raises(SettingsError, match="XCISS_TRUSTED_PROXIES"):
        Settings.from_env({"XCISS_TRUSTED_PROXIES": "10.0.0.0/8,gateway"})
