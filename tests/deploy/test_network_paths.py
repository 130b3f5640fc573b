"""Who reaches whom in the production overlay: the front door is an Ingress
with TLS in front of the gateway, the ingress controller reaches the gateway
and the gateway every API, the NATS safety check reaches the servers'
monitoring endpoint (and nobody else does), and only the token verifiers gain
HTTPS egress to the OpenID Connect issuer."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from services.runtime.settings import DEFAULT_PORTS, GATEWAY_PORT, SERVICES
from tests.deploy.rendered import Docs, admits, named, of_kind, pod_templates, port_number, selects, sends, settings_of, xciss_deployments


def test_the_front_door_is_an_ingress_with_tls_to_the_gateway(prod: Docs) -> None:
    (ingress,) = of_kind(prod, "Ingress")
    hosts = {r["host"] for r in ingress["spec"]["rules"]}
    covered = {h for t in ingress["spec"]["tls"] for h in t["hosts"]}
    assert hosts and hosts <= covered, f"hosts without TLS: {hosts - covered}"
    assert {t["secretName"] for t in ingress["spec"]["tls"]} == {"xciss-tls"}
    backends = {p["backend"]["service"]["name"] for r in ingress["spec"]["rules"] for p in r["http"]["paths"]}
    assert backends == {"gateway"}
    assert [p["path"] for r in ingress["spec"]["rules"] for p in r["http"]["paths"]] == ["/"]  # the portal and /api/...
    service = named(prod, "Service", "gateway")
    gateway = named(prod, "Deployment", "gateway")
    tpl = gateway["spec"]["template"]
    assert selects({"matchLabels": service["spec"]["selector"]}, tpl["metadata"]["labels"])
    (c,) = tpl["spec"]["containers"]
    assert c["args"] == ["gateway"]
    assert port_number(c, service["spec"]["ports"][0]["targetPort"]) == GATEWAY_PORT
    # the gateway finds each service's API Service, on that service's port
    env = {e["name"]: e.get("value") for e in c.get("env", [])}
    for svc in SERVICES:
        assert env[f"XCISS_{svc.upper()}_URL"] == f"http://{svc}-api:{DEFAULT_PORTS[svc]}"
        named(prod, "Service", f"{svc}-api")
    # more than one gateway, scaled on load
    (hpa,) = [h for h in of_kind(prod, "HorizontalPodAutoscaler") if h["spec"]["scaleTargetRef"]["name"] == "gateway"]
    assert 2 <= hpa["spec"]["minReplicas"] < hpa["spec"]["maxReplicas"]


def test_the_ingress_controller_reaches_the_gateway_and_the_gateway_the_apis(prod: Docs) -> None:
    gateway = named(prod, "Deployment", "gateway")["spec"]["template"]["metadata"]["labels"]
    mine = [p for p in of_kind(prod, "NetworkPolicy") if p["spec"]["podSelector"] and selects(p["spec"]["podSelector"], gateway)]
    assert mine, "the gateway has no NetworkPolicy"
    inbound = [r for p in mine for r in p["spec"].get("ingress", [])]
    assert any("namespaceSelector" in peer for r in inbound for peer in r["from"]) and all(
        {port["port"] for port in r["ports"]} == {GATEWAY_PORT} for r in inbound
    ), "only the ingress controller's namespace, only the gateway's port"
    for d in xciss_deployments(prod, "api"):
        api = d["spec"]["template"]["metadata"]["labels"]
        port = DEFAULT_PORTS[api["xciss.io/service"]]
        # the gateway may send ...
        assert sends(prod, gateway, api, port), f"the gateway may not reach {d['metadata']['name']}"
        # ... and the API accepts
        policies = [p for p in of_kind(prod, "NetworkPolicy") if p["spec"]["podSelector"] and selects(p["spec"]["podSelector"], api)]
        assert any(admits(p, gateway, port) for p in policies), f"{d['metadata']['name']} refuses the gateway"


def test_the_nats_safety_check_reaches_the_servers_monitoring_endpoint(prod: Docs) -> None:
    """Issue 20, item 5: without the monitor URL the check could not verify
    ``sync_interval: always`` in the cluster (``nats.sync_unverified``)."""
    url = urlsplit(settings_of(prod).nats_monitor_url or "")
    assert url.scheme == "http" and url.hostname and url.port, "XCISS_NATS_MONITOR_URL is not set in the cluster"
    service = named(prod, "Service", url.hostname)
    (port,) = [p for p in service["spec"]["ports"] if p["port"] == url.port]
    nats = named(prod, "StatefulSet", "nats")["spec"]["template"]
    assert selects({"matchLabels": service["spec"]["selector"]}, nats["metadata"]["labels"])
    (c,) = nats["spec"]["containers"]
    target = port_number(c, port["targetPort"])
    assert "http: 0.0.0.0:%d" % target in named(prod, "ConfigMap", "nats-config")["data"]["nats.conf"]
    nats_policy = named(prod, "NetworkPolicy", "nats")
    checkers = [*xciss_deployments(prod, "worker"), *xciss_deployments(prod, "relay"), named(prod, "Job", "xciss-streams")]
    assert len(checkers) == 2 * len(SERVICES) + 1
    for w in checkers:
        labels = w["spec"]["template"]["metadata"]["labels"]
        assert sends(prod, labels, nats["metadata"]["labels"], target), f"{w['metadata']['name']} may not reach the monitoring port"
        assert admits(nats_policy, labels, target), f"NATS refuses {w['metadata']['name']} on the monitoring port"
    # and nobody else: the API pods and the gateway do not read it
    for d in [*xciss_deployments(prod, "api"), named(prod, "Deployment", "gateway")]:
        assert not admits(nats_policy, d["spec"]["template"]["metadata"]["labels"], target), d["metadata"]["name"]


def test_the_token_verifiers_reach_the_oidc_issuer_and_nothing_else_gains_egress(production: tuple[str, Docs]) -> None:
    """Issue 20, item 9: with XCISS_OIDC_JWKS_URL the APIs and the gateway fetch the
    issuer's JWKS (services/runtime/http/auth.py); default-deny would block it. They get
    HTTPS to the issuer's address range (EDIT) and nothing more; no other pod is
    selected by those policies."""
    name, docs = production
    oidc = [p for p in of_kind(docs, "NetworkPolicy") if p["metadata"].get("labels", {}).get("xciss.io/egress") == "oidc"]
    assert oidc, f"{name}: no OIDC egress policy"
    for p in oidc:
        assert p["spec"]["policyTypes"] == ["Egress"] and "ingress" not in p["spec"], p["metadata"]["name"]
        (rule,) = p["spec"]["egress"]
        (peer,) = rule["to"]
        assert set(peer) == {"ipBlock"} and ipaddress.ip_network(peer["ipBlock"]["cidr"]).prefixlen >= 8, f"{p['metadata']['name']}: {peer}"
        assert rule["ports"] == [{"protocol": "TCP", "port": 443}], p["metadata"]["name"]
    verifiers = {f"{s}-api" for s in SERVICES} | {"gateway"}
    for where, tpl in pod_templates(docs):
        kind, _, workload = where.partition("/")
        mine = [p for p in oidc if selects(p["spec"]["podSelector"], tpl["metadata"]["labels"])]
        if kind == "Deployment" and workload in verifiers:
            assert len(mine) == 1, f"{name}: {where} is under {len(mine)} OIDC policies"
        else:
            assert not mine, f"{name}: {where} gains egress from {[p['metadata']['name'] for p in mine]}"
    assert {d["metadata"]["name"] for d in of_kind(docs, "Deployment")} >= verifiers
