"""Pod Security: the production namespace enforces the ``restricted`` level and
every pod template of the production overlays meets it, checked by a checker
of the Baseline and Restricted controls that itself finds each violation."""

from __future__ import annotations

from typing import Any

from tests.deploy.rendered import Docs, named, of_kind, pod_templates


#: https://kubernetes.io/docs/concepts/security/pod-security-standards/, "Restricted": the
#: volume types a pod may use (everything else, hostPath included, is refused)
RESTRICTED_VOLUMES = {"configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim", "projected", "secret"}


#: sysctls the Baseline profile (and so Restricted) allows
SAFE_SYSCTLS = {
    "kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range", "net.ipv4.ip_unprivileged_port_start",
    "net.ipv4.tcp_syncookies", "net.ipv4.ping_group_range", "net.ipv4.ip_local_reserved_ports",
    "net.ipv4.tcp_keepalive_time", "net.ipv4.tcp_fin_timeout", "net.ipv4.tcp_keepalive_intvl", "net.ipv4.tcp_keepalive_probes",
}


def restricted_violations(template: dict[str, Any]) -> list[str]:
    """What in a pod template the ``restricted`` Pod Security level (version
    ``latest``) refuses: the Baseline controls plus the Restricted ones."""
    spec = template["spec"]
    pod_sc = spec.get("securityContext", {})
    found = []
    for field in ("hostNetwork", "hostPID", "hostIPC"):
        if spec.get(field):
            found.append(f"{field}: true")
    for v in spec.get("volumes", []):
        kinds = set(v) - {"name"}
        if not kinds <= RESTRICTED_VOLUMES:
            found.append(f"volume {v['name']}: type {sorted(kinds - RESTRICTED_VOLUMES)}")
    for s in pod_sc.get("sysctls", []):
        if s["name"] not in SAFE_SYSCTLS:
            found.append(f"sysctl {s['name']}")
    if pod_sc.get("runAsUser") == 0:
        found.append("pod runAsUser: 0")
    pod_seccomp = pod_sc.get("seccompProfile", {}).get("type")
    if pod_seccomp == "Unconfined":
        found.append("pod seccompProfile Unconfined")
    for c in [*spec.get("initContainers", []), *spec["containers"], *spec.get("ephemeralContainers", [])]:
        sc = c.get("securityContext", {})
        at = f"container {c['name']}"
        if sc.get("privileged"):
            found.append(f"{at}: privileged")
        if sc.get("windowsOptions", {}).get("hostProcess") or pod_sc.get("windowsOptions", {}).get("hostProcess"):
            found.append(f"{at}: hostProcess")
        if any(p.get("hostPort") for p in c.get("ports", [])):
            found.append(f"{at}: hostPort")
        if sc.get("procMount", "Default") != "Default":
            found.append(f"{at}: procMount {sc['procMount']}")
        if sc.get("allowPrivilegeEscalation") is not False:
            found.append(f"{at}: allowPrivilegeEscalation not false")
        # runAsNonRoot: true on the pod (and not false on the container) or on the container
        if sc.get("runAsNonRoot") is False or not (sc.get("runAsNonRoot") or pod_sc.get("runAsNonRoot")):
            found.append(f"{at}: runAsNonRoot not true")
        if sc.get("runAsUser") == 0:
            found.append(f"{at}: runAsUser 0")
        seccomp = sc.get("seccompProfile", {}).get("type") or pod_seccomp
        if seccomp not in ("RuntimeDefault", "Localhost"):
            found.append(f"{at}: seccompProfile {seccomp}")
        caps = sc.get("capabilities", {})
        if "ALL" not in caps.get("drop", []):
            found.append(f"{at}: capabilities not dropped (ALL)")
        if set(caps.get("add", [])) - {"NET_BIND_SERVICE"}:
            found.append(f"{at}: adds capabilities {caps['add']}")
    return found


def test_every_pod_meets_the_restricted_pod_security_level(production: tuple[str, Docs]) -> None:
    """Issue 20, item 9: the production namespace enforces ``restricted``, and
    every pod template the overlays ship is admitted by it. (CloudNativePG's own
    pods are not in the manifests: see the component's cluster.yaml.)"""
    name, docs = production
    problems = [f"{where}: {v}" for where, tpl in pod_templates(docs) for v in restricted_violations(tpl)]
    assert not problems, f"{name}:\n" + "\n".join(problems)
    (ns,) = of_kind(docs, "Namespace")
    assert ns["metadata"]["name"] == "xciss"
    labels = ns["metadata"]["labels"]
    for mode in ("enforce", "audit", "warn"):
        assert labels[f"pod-security.kubernetes.io/{mode}"] == "restricted", mode
        assert labels[f"pod-security.kubernetes.io/{mode}-version"] == "latest", mode
    assert {d["metadata"].get("namespace") for d in docs if d["kind"] != "Namespace" and d["kind"] not in ("ClusterRole", "ClusterRoleBinding")} == {"xciss"}


def test_the_restricted_check_refuses_what_kubernetes_refuses(prod: Docs) -> None:
    """The checker above is not vacuous: a root container, a host path, an added
    capability or a missing seccomp profile are each found."""
    import copy

    tpl = named(prod, "Deployment", "registry-api")["spec"]["template"]
    assert restricted_violations(tpl) == []
    for breaks in (
        lambda t: t["spec"]["containers"][0]["securityContext"].update(runAsNonRoot=False),
        lambda t: t["spec"]["volumes"].append({"name": "h", "hostPath": {"path": "/"}}),
        lambda t: t["spec"]["containers"][0]["securityContext"]["capabilities"].update(add=["NET_ADMIN"]),
        lambda t: (t["spec"]["securityContext"].pop("seccompProfile"), t["spec"]["containers"][0]["securityContext"].pop("seccompProfile")),
        lambda t: t["spec"]["containers"][0]["securityContext"].pop("allowPrivilegeEscalation"),
        lambda t: t["spec"].update(hostNetwork=True),
        lambda t: t["spec"]["containers"][0]["ports"][0].update(hostPort=8101),
    ):
        broken = copy.deepcopy(tpl)
        breaks(broken)
        assert restricted_violations(broken), "a violation went unnoticed"
