"""Spreading a service's requests over its addresses: round-robin, the next
address when a connection is refused, a refused address set aside for a while,
and never a second try once the request was sent."""

from __future__ import annotations

from collections import Counter

import httpx
import pytest

from services.gateway.upstreams import Picker, Upstream, Upstreams, split
from services.runtime.settings import Settings, SettingsError

A, B, C = "http://a:8101", "http://b:8101", "http://c:8101"


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_round_robin_over_the_addresses() -> None:
    picker = Picker([A, B, C])
    firsts = [picker.order()[0] for _ in range(6)]
    assert firsts == [A, B, C, A, B, C]
    assert sorted(picker.order()) == [A, B, C]  # every address once per request


def test_a_refused_address_is_set_aside_for_a_while() -> None:
    clock = Clock()
    picker = Picker([A, B], down_for_s=2.0, clock=clock)
    picker.refused(A)
    assert [picker.order() for _ in range(3)] == [[B, A], [B, A], [B, A]]  # tried last, never first
    clock.now += 2.01
    assert {picker.order()[0] for _ in range(2)} == {A, B}  # back in turn


def test_when_every_address_is_set_aside_all_are_still_tried() -> None:
    picker = Picker([A, B], clock=Clock())
    picker.refused(A)
    picker.refused(B)
    assert sorted(picker.order()) == [A, B]


def test_an_answer_brings_an_address_back_at_once() -> None:
    picker = Picker([A, B], clock=Clock())
    picker.refused(A)
    picker.answered(A)
    assert not picker.is_down(A)
    assert {picker.order()[0] for _ in range(2)} == {A, B}


def test_addresses_from_a_comma_separated_setting() -> None:
    assert split(" http://a:8101/ , http://b:8101,,") == (A, B)
    env = {"XCISS_REGISTRY_URL": "http://a:8101, http://b:8101/", "XCISS_PAYMENTS_URL": "http://p:8104"}
    settings = Settings.from_env(env)
    assert settings.upstream_addresses("registry") == (A, B)
    assert settings.upstream_addresses("payments") == ("http://p:8104",)
    assert settings.upstream_addresses("vouchers") == ("http://127.0.0.1:8102",)  # unset: this host's port
    with pytest.raises(SettingsError, match="XCISS_REGISTRY_URL"):
        Settings.from_env({"XCISS_REGISTRY_URL": "http://a:8101,b:8101"})


class Replicas:
    """Addresses that refuse connections, drop the request once sent, or answer."""

    def __init__(self, refusing: frozenset[str] = frozenset(), dropping: frozenset[str] = frozenset()) -> None:
        self.refusing, self.dropping = refusing, dropping
        self.tried: list[str] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        origin = f"http://{request.url.netloc.decode()}"
        self.tried.append(origin)
        if origin in self.refusing:
            raise httpx.ConnectError("connection refused", request=request)
        if origin in self.dropping:
            raise httpx.RemoteProtocolError("server disconnected without sending a response", request=request)
        return httpx.Response(200, json={"served_by": origin})


async def test_a_refused_connection_goes_to_the_next_address_and_then_skips_it() -> None:
    replicas = Replicas(refusing=frozenset({A}))
    upstream = Upstream("registry", Picker([A, B], clock=Clock()))
    async with httpx.AsyncClient(transport=httpx.MockTransport(replicas)) as client:
        answers = [await upstream.request(client, "POST", "/v1/things?x=1", content=b"{}") for _ in range(4)]
    assert [r.json()["served_by"] for r in answers] == [B] * 4
    assert replicas.tried.count(A) == 1  # set aside after its refusal, not tried by every request


async def test_a_request_lost_after_it_was_sent_is_not_tried_again() -> None:
    replicas = Replicas(dropping=frozenset({A}))
    upstream = Upstream("vouchers", Picker([A, B], clock=Clock()))
    async with httpx.AsyncClient(transport=httpx.MockTransport(replicas)) as client:
        with pytest.raises(httpx.RemoteProtocolError):
            await upstream.request(client, "POST", "/v1/applications/", content=b"{}")
    assert replicas.tried == [A]  # B never saw the POST


async def test_when_no_address_takes_the_connection_the_refusal_reaches_the_caller() -> None:
    replicas = Replicas(refusing=frozenset({A, B}))
    upstream = Upstream("payments", Picker([A, B], clock=Clock()))
    async with httpx.AsyncClient(transport=httpx.MockTransport(replicas)) as client:
        for _ in range(2):
            with pytest.raises(httpx.ConnectError):
                await upstream.request(client, "GET", "/v1/x")
    assert Counter(replicas.tried) == {A: 2, B: 2}  # all set aside: all still tried, each once per request


def test_upstreams_accept_a_list_or_a_comma_separated_string() -> None:
    ups = Upstreams({"registry": f"{A},{B}", "vouchers": [C]})
    assert ups["registry"].addresses == (A, B) and ups["vouchers"].addresses == (C,)
    assert set(ups) == {"registry", "vouchers"}
