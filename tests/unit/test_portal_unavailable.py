"""A page that asks a service the gateway cannot reach (down, or with no address in this
deployment) gets a refusal it can show, in Chinese, never an unhandled error (a 500)."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from services.gateway.portal.client import Api, ApiError
from services.gateway.upstreams import Upstreams


class Down(httpx.AsyncBaseTransport):
    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("down", request=request)


async def _ask(service: str) -> ApiError:
    async with httpx.AsyncClient(transport=Down()) as client:
        api = Api(client, Upstreams({"registry": "http://registry.local"}), token=None)
        with pytest.raises(ApiError) as found:
            await api.get(service, "/v1/notices/")
        return found.value


@pytest.mark.parametrize(
    "service, zh, en",
    [
        ("registry", "登记服务（账号、单位、仪器、订单）暂时不可用，请稍后重试", "The Registry (accounts, units, instruments, orders) service is not reachable"),
        ("evaluation", "绩效评价服务暂时不可用，请稍后重试", "The Evaluation service is not reachable"),
    ],
)
def test_a_service_down_or_without_an_address_is_unavailable_in_words(service: str, zh: str, en: str) -> None:
    """The service named as the catalogues name it (the audit trail's chooser too), in both languages."""
    err = asyncio.run(_ask(service))
    assert err.status == 503 and err.code == "gateway.upstream_unavailable"
    assert err.message("zh") == zh and err.message("en").startswith(en)


def test_a_service_the_portal_has_no_words_for_is_unavailable_in_general_words() -> None:
    err = asyncio.run(_ask("elsewhere"))
    assert err.status == 503 and err.message("zh") == "服务暂时不可用，请稍后重试" and "elsewhere" not in err.message("en")
