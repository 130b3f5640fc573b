"""The workload's HTTP client: every logical operation is recorded (Jepsen
style) as attempted, acknowledged (a 2xx answer reached the client), failed
(a definite refusal) or ambiguous (an attempt may or may not have taken
effect before its answer was lost).

A request that times out, cannot connect, or answers 5xx is retried with
backoff until ``deadline_s``; a 4xx answer is returned to the caller, which
knows whether a 409 after an ambiguous attempt means "already done".

Creating operations (orders, order documents, units, users) are sent with an
``Idempotency-Key`` (``key=``, the same on every attempt): a retry after a lost
answer replays the first answer (``Idempotent-Replayed: true``, counted as
``replayed``) instead of creating a second object, so their leftovers are no
longer indeterminate: a second object is a duplicate."""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx

from services.runtime.roles import Role
from tests.faults.cluster import Cluster

#: answers that mean "try again": the service is restarting, paused, or lost its NATS/database
RETRY_STATUS = frozenset({500, 502, 503, 504})


@dataclass
class Op:
    journey: int
    name: str
    ack: bool = False
    failed: bool = False
    #: at least one attempt ended without an answer (or with 5xx): it may have taken effect
    ambiguous: bool = False
    attempts: int = 0
    #: the answer was a replay of an earlier attempt's (Idempotency-Key)
    replayed: bool = False
    status: int | None = None
    code: str | None = None
    #: attempts answered 409 ``*.concurrent_change`` (then retried)
    concurrent: int = 0


@dataclass
class History:
    ops: list[Op] = field(default_factory=list)

    def add(self, op: Op) -> Op:
        self.ops.append(op)
        return op

    def counts(self) -> Counter[str]:
        c: Counter[str] = Counter()
        for op in self.ops:
            c["attempted"] += 1
            c["acknowledged"] += op.ack
            c["ambiguous"] += op.ambiguous
            c["replayed"] += op.replayed
            c["concurrent_change_retried"] += op.concurrent > 0
        return c


class ApiError(Exception):
    def __init__(self, op: Op, response: httpx.Response | None, what: str):
        self.op = op
        self.response = response
        super().__init__(f"{op.name}: {what}")


class Api:
    def __init__(self, cluster: Cluster, history: History, *, deadline_s: float = 240.0, timeout_s: float = 20.0):
        self.cluster = cluster
        self.history = history
        self.deadline_s = deadline_s
        self.client = httpx.AsyncClient(timeout=httpx.Timeout(timeout_s, connect=5.0), limits=httpx.Limits(max_connections=200, max_keepalive_connections=50))
        self._tokens: dict[tuple[str, str | None], str] = {}

    async def aclose(self) -> None:
        await self.client.aclose()

    def headers(self, role: Role | str | None, org: str | None) -> dict[str, str]:
        if role is None:
            return {}
        key = (str(role), org)
        if key not in self._tokens:
            self._tokens[key] = self.cluster.token(role, org)
        return {"Authorization": f"Bearer {self._tokens[key]}"}

    async def call(
        self,
        service: str,
        method: str,
        path: str,
        *,
        role: Role | str | None = None,
        org: str | None = None,
        journey: int = -1,
        name: str | None = None,
        record: bool = True,
        key: str | None = None,
        **kw: Any,
    ) -> tuple[Op, httpx.Response]:
        """Send until an answer other than 5xx arrives (or the deadline passes: ApiError).
        ``key``: the operation's Idempotency-Key, sent with every attempt."""
        op = Op(journey, name or f"{method} {service}{path}")
        if record:
            self.history.add(op)
        headers = {**self.headers(role, org), **kw.pop("headers", {})}
        if key is not None:
            headers["Idempotency-Key"] = key
        url = self.cluster.base(service) + path
        deadline = time.monotonic() + self.deadline_s
        delay = 0.1
        last: httpx.Response | None = None
        while True:
            op.attempts += 1
            try:
                r = await self.client.request(method, url, headers=headers, **kw)
            except (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError):
                # the request may have been processed before the answer was lost
                op.ambiguous = op.ambiguous or method != "GET"
                r = None
            if r is not None:
                last = r
                # "changed meanwhile; reload and retry": after a lost answer the retry may run
                # beside the first attempt on another replica; a client does as it is told
                concurrent = r.status_code == 409 and (_code(r) or "").endswith(".concurrent_change")
                if concurrent:
                    op.concurrent += 1
                if r.status_code not in RETRY_STATUS and not concurrent:
                    op.status = r.status_code
                    op.replayed = r.headers.get("Idempotent-Replayed") == "true"
                    if r.is_success:
                        op.ack = True
                    else:
                        op.failed = True
                        op.code = _code(r)
                    return op, r
                # a 500 may come from a connection lost during the commit: ambiguous too
                # and through the gateway a 502-504 may come after the service took the request
                gateway = self.cluster.gateway is not None and r.status_code in (502, 503, 504)
                op.ambiguous = op.ambiguous or (method != "GET" and (r.status_code == 500 or gateway))
            if time.monotonic() > deadline:
                raise ApiError(op, last, f"no answer within {self.deadline_s:.0f}s")
            await asyncio.sleep(delay * (0.5 + random.random()))
            delay = min(delay * 2, 2.0)

    async def expect(self, service: str, method: str, path: str, *, ok: tuple[int, ...] = (200, 201), **kw: Any) -> Any:
        op, r = await self.call(service, method, path, **kw)
        if r.status_code not in ok:
            raise ApiError(op, r, f"{r.status_code} {r.text[:300]}")
        return r.json()

    async def get(self, service: str, path: str, **kw: Any) -> Any:
        return await self.expect(service, "GET", path, ok=(200,), record=False, **kw)

    async def pages(self, service: str, path: str, **kw: Any) -> list[dict[str, Any]]:
        """Every item of a paged list."""
        items: list[dict[str, Any]] = []
        page = 1
        params = dict(kw.pop("params", {}))
        while True:
            body = await self.get(service, path, params={**params, "page": page, "page_size": 100}, **kw)
            items.extend(body["items"])
            if len(body["items"]) < 100 or len(items) >= body["total"]:
                return items
            page += 1


def _code(r: httpx.Response) -> str | None:
    try:
        body = r.json()
    except ValueError:
        return None
    return body.get("code") if isinstance(body, dict) else None
