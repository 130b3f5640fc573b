"""The production pods' health and bounds: every long-running container has
probes (workers and relays on their metrics port) and every container resource
bounds, API and gateway pods keep serving while their endpoint is withdrawn
(preStop) and outlive their drain, NATS servers start only once their streams
have caught up and are guaranteed their memory, collecting before its limit."""

from __future__ import annotations

from typing import Any

from services.runtime.settings import SERVICES
from tests.deploy.rendered import Docs, containers, named, pod_templates, port_number, settings_of, xciss_deployments


#: how long a pod keeps serving after it is marked terminating: longer than
#: kube-proxy and the ingress controller need to drop its endpoint
MIN_PRESTOP_S = 5


def _prestop_seconds(container: dict[str, Any]) -> int:
    hook = container.get("lifecycle", {}).get("preStop", {})
    if "sleep" in hook:
        return int(hook["sleep"]["seconds"])
    command = hook.get("exec", {}).get("command", [])
    assert command[:1] == ["sleep"], f"{container['name']}: preStop is not a sleep: {hook}"
    return int(command[1])


def _front_door(docs: Docs) -> list[dict[str, Any]]:
    return [*xciss_deployments(docs, "api"), named(docs, "Deployment", "gateway")]


def test_every_long_running_container_has_probes_and_every_container_resources(prod: Docs) -> None:
    problems = []
    for where, tpl in pod_templates(prod):
        for c in containers(tpl):
            at = f"{where} container {c['name']}"
            res = c.get("resources", {})
            if not all({"cpu", "memory"} <= set(res.get(part, {})) for part in ("requests", "limits")):
                problems.append(f"{at}: no cpu/memory requests and limits")
            if where.startswith("Job/"):
                continue  # runs to completion: nothing to probe
            for probe in ("livenessProbe", "readinessProbe"):
                if probe not in c:
                    problems.append(f"{at}: no {probe}")
                elif "httpGet" in c[probe]:
                    port_number(c, c[probe]["httpGet"]["port"])
    assert not problems, "\n".join(problems)


def test_workers_and_relays_are_probed_on_their_metrics_port(prod: Docs) -> None:
    port = settings_of(prod).metrics_port
    for d in xciss_deployments(prod, "worker") + xciss_deployments(prod, "relay"):
        (c,) = d["spec"]["template"]["spec"]["containers"]
        assert c["livenessProbe"]["httpGet"]["path"] == "/health", d["metadata"]["name"]
        assert c["readinessProbe"]["httpGet"]["path"] == "/ready", d["metadata"]["name"]
        assert port_number(c, c["readinessProbe"]["httpGet"]["port"]) == port
        assert port_number(c, c["livenessProbe"]["httpGet"]["port"]) == port


def test_apis_and_the_gateway_keep_serving_while_their_endpoint_is_withdrawn(prod: Docs) -> None:
    graceful = settings_of(prod).graceful_timeout_s
    front = _front_door(prod)
    assert len(front) == len(SERVICES) + 1
    for d in front:
        (c,) = d["spec"]["template"]["spec"]["containers"]
        prestop = _prestop_seconds(c)
        assert prestop >= MIN_PRESTOP_S, f"{d['metadata']['name']}: preStop {prestop} s"
        grace = d["spec"]["template"]["spec"].get("terminationGracePeriodSeconds", 30)
        # the preStop sleep counts against the grace period; then the drain needs its time
        assert grace > prestop + graceful, f"{d['metadata']['name']}: grace {grace} <= preStop {prestop} + drain {graceful}"


def test_nats_starts_only_once_its_streams_have_caught_up(prod: Docs) -> None:
    (c,) = named(prod, "StatefulSet", "nats")["spec"]["template"]["spec"]["containers"]
    assert c["startupProbe"]["httpGet"]["path"] == "/healthz"  # not ?js-enabled-only: that passes before catch-up
    assert port_number(c, c["startupProbe"]["httpGet"]["port"]) == 8222


def _bytes(quantity: str) -> int:
    units = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30}
    for suffix, factor in units.items():
        if quantity.endswith(suffix):
            return int(float(quantity[: -len(suffix)]) * factor)
    return int(quantity)


def test_nats_servers_are_guaranteed_their_resources_and_collect_before_their_limit(overlay: tuple[str, Docs]) -> None:
    """The NATS chart's advice: GOMEMLIMIT about 90 % of the memory limit (the Go
    runtime collects instead of being OOM-killed); in production requests = limits."""
    name, docs = overlay
    (c,) = named(docs, "StatefulSet", "nats")["spec"]["template"]["spec"]["containers"]
    limit = _bytes(c["resources"]["limits"]["memory"])
    env = {e["name"]: e.get("value") for e in c.get("env", [])}
    assert "GOMEMLIMIT" in env, f"{name}: no GOMEMLIMIT"
    assert 0.75 * limit <= _bytes(env["GOMEMLIMIT"].removesuffix("B")) <= 0.9 * limit, f"{name}: GOMEMLIMIT {env['GOMEMLIMIT']} for a limit of {limit}"
    if name == "prod":
        assert c["resources"]["requests"] == c["resources"]["limits"], "prod NATS: requests = limits (Guaranteed)"
