"""``xciss bus …``: the NATS credentials and the server configuration.

    xciss bus keys DIR [--partner P ...]      create the missing seeds, print the public keys
    xciss bus server-config DIR               the server's authorization block (from DIR's seeds)
    xciss bus permissions IDENTITY            one identity's allow-lists, as JSON
    xciss bus rotate begin|finish IDENTITY DIR   a key rotation's two steps (docs/security.md)
    xciss bus k8s-secrets DIR                 the Secrets the cluster mounts (YAML)
    xciss bus backup DIR [--stream S ...]     save streams (messages and consumers) to DIR, as the operator
    xciss bus restore DIR [--replicas N]      create the streams saved in DIR (they must not exist)

Partners are the ``partner-<name>.nk`` seeds found in DIR.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import sys
from pathlib import Path
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from services.runtime.bus_identity.credentials import begin_rotation, ensure_seeds, finish_rotation, seed_path
from services.runtime.bus_identity.permissions import (
    OPERATOR,
    PARTNER_PREFIX,
    BusPlan,
    identities,
    partner_identity,
    permissions,
)
from services.runtime.bus.serverconfig import authorization_block, keys_in

if TYPE_CHECKING:
    from nats import NATS

#: the Secret that holds the server's authorization block (included by nats.conf)
AUTH_SECRET = "xciss-nats-auth"


def secret_name(identity: str) -> str:
    return f"xciss-nats-{identity}"


def partners_in(directory: Path) -> list[str]:
    return sorted(p.name.removeprefix(PARTNER_PREFIX).split(".")[0] for p in directory.glob(f"{PARTNER_PREFIX}*.nk"))


def _plan(directory: Path, extra_partners: list[str] | None = None) -> BusPlan:
    from services.runtime.platform import platform_plan  # every service's spec: only the commands that need the plan load them

    return platform_plan(sorted({*partners_in(directory), *(extra_partners or [])}))


def cmd_keys(args: argparse.Namespace) -> int:
    directory = Path(args.dir)
    try:
        for name in args.partner:
            partner_identity(name)
    except ValueError as exc:
        print(f"xciss: {exc}", file=sys.stderr)
        return 2
    plan = _plan(directory, args.partner)
    created = set(ensure_seeds(directory, identities(plan)))
    for identity, keys in keys_in(directory, plan).items():
        print(f"{identity:<22}{' '.join(keys)}{'   (new)' if identity in created else ''}")
    return 0


def cmd_server_config(args: argparse.Namespace) -> int:
    directory = Path(args.dir)
    plan = _plan(directory)
    keys = keys_in(directory, plan)
    missing = [i for i, k in keys.items() if not k and not i.startswith(PARTNER_PREFIX)]
    if missing:
        print(f"xciss: no seed for {', '.join(missing)} in {directory}; run `xciss bus keys {directory}`", file=sys.stderr)
        return 2
    sys.stdout.write(authorization_block(plan, keys))
    return 0


def cmd_permissions(args: argparse.Namespace) -> int:
    from services.runtime.platform import platform_plan

    plan = platform_plan([args.identity.removeprefix(PARTNER_PREFIX)] if args.identity.startswith(PARTNER_PREFIX) else [])
    try:
        print(json.dumps(permissions(args.identity, plan).server_block(), indent=2))
    except ValueError as exc:
        print(f"xciss: {exc}", file=sys.stderr)
        return 2
    return 0


def cmd_rotate(args: argparse.Namespace) -> int:
    directory = Path(args.dir)
    try:
        key = begin_rotation(directory, args.identity) if args.step == "begin" else finish_rotation(directory, args.identity)
    except FileNotFoundError as exc:
        print(f"xciss: {exc}", file=sys.stderr)
        return 2
    then = (
        "render the server configuration again, reload the servers, then hand the .next.nk seed to the identity's processes"
        if args.step == "begin"
        else "render the server configuration again and reload the servers: the old key is no longer accepted"
    )
    print(f"{args.identity}: {'next' if args.step == 'begin' else 'current'} public key {key}\nnext: {then}")
    return 0


def cmd_k8s_secrets(args: argparse.Namespace) -> int:
    """The Secrets: the authorization block for the servers, and one seed per
    platform identity (each Deployment mounts only its own). Partners' seeds are
    handed to the partners, never stored in the cluster."""
    directory = Path(args.dir)
    plan = _plan(directory)
    docs = [_secret(AUTH_SECRET, "auth.conf", authorization_block(plan, keys_in(directory, plan)), args.namespace)]
    for identity in identities(plan):
        if identity.startswith(PARTNER_PREFIX):
            continue
        path = seed_path(directory, identity)
        if not path.exists():
            print(f"xciss: no seed for {identity}; run `xciss bus keys {directory}`", file=sys.stderr)
            return 2
        docs.append(_secret(secret_name(identity), "seed.nk", path.read_text(), args.namespace))
    sys.stdout.write("---\n".join(docs))
    return 0


async def _operator_connection() -> NATS:
    """As the operator: XCISS_NATS_URL, and its seed in XCISS_NATS_NKEY_FILE or XCISS_NATS_CREDENTIALS_DIR."""
    from services.runtime.bus.connect import connect_nats
    from services.runtime.settings import Settings, SettingsError

    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        print(f"xciss: configuration error: {exc}", file=sys.stderr)
        raise SystemExit(2) from exc
    if not settings.nats_url:
        print("xciss: XCISS_NATS_URL is required", file=sys.stderr)
        raise SystemExit(2)
    return await connect_nats(settings.bus(OPERATOR), "xciss-bus-backup")


async def _as_operator(work: Callable[[NATS], Awaitable[list[str]]]) -> int:
    """Run ``work`` on an operator connection and print its lines; a refusal is one line on stderr."""
    from services.runtime.bus.backup import BackupError

    nc = await _operator_connection()
    try:
        for line in await work(nc):
            print(line)
    except BackupError as exc:
        print(f"xciss: {exc}", file=sys.stderr)
        return 1
    finally:
        await nc.close()
    return 0


def cmd_backup(args: argparse.Namespace) -> int:
    """Each stream's snapshot in DIR/<STREAM>/ (docs/operations.md, "Back up and restore")."""
    from services.runtime.bus.backup import backup_all

    async def work(nc: NATS) -> list[str]:
        saved = await backup_all(nc, Path(args.dir), args.stream or None)
        return [f"{b.stream:<24}{b.messages:>10} messages {b.bytes_written:>14,} bytes  {b.directory}" for b in saved]

    return asyncio.run(_as_operator(work))


def cmd_restore(args: argparse.Namespace) -> int:
    from services.runtime.bus.backup import restore_all

    async def work(nc: NATS) -> list[str]:
        return [f"restored {name}" for name in await restore_all(nc, Path(args.dir), args.replicas)]

    return asyncio.run(_as_operator(work))


def _secret(name: str, key: str, text: str, namespace: str | None) -> str:
    data = base64.b64encode(text.encode()).decode()
    ns = f"  namespace: {namespace}\n" if namespace else ""
    return (
        f"apiVersion: v1\nkind: Secret\nmetadata:\n  name: {name}\n{ns}  labels:\n    app.kubernetes.io/part-of: xciss\n"
        f"type: Opaque\ndata:\n  {key}: {data}\n"
    )


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    b = sub.add_parser("bus", help="NATS credentials and the server's permission table")
    bsub = b.add_subparsers(dest="bus_cmd", required=True)
    k = bsub.add_parser("keys", help="create the missing nkey seeds in DIR (0700; seeds 0600) and print the public keys")
    k.add_argument("dir")
    k.add_argument("--partner", action="append", default=[], help="also a partner system (lowercase letters and digits)")
    k.set_defaults(fn=cmd_keys)
    c = bsub.add_parser("server-config", help="print the NATS server's authorization block for the seeds in DIR")
    c.add_argument("dir")
    c.set_defaults(fn=cmd_server_config)
    p = bsub.add_parser("permissions", help="print one identity's publish and subscribe allow-lists")
    p.add_argument("identity", help=f"a service, gateway, {OPERATOR} or partner-<name>")
    p.set_defaults(fn=cmd_permissions)
    r = bsub.add_parser("rotate", help="rotate one identity's key: begin (a next seed), finish (it becomes the seed)")
    r.add_argument("step", choices=["begin", "finish"])
    r.add_argument("identity")
    r.add_argument("dir")
    r.set_defaults(fn=cmd_rotate)
    s = bsub.add_parser("k8s-secrets", help="print the Kubernetes Secrets (authorization block, one seed per identity)")
    s.add_argument("dir")
    s.add_argument("--namespace", default=None)
    s.set_defaults(fn=cmd_k8s_secrets)
    bk = bsub.add_parser("backup", help="save streams (messages and consumers) to DIR/<STREAM>/, as the operator identity")
    bk.add_argument("dir")
    bk.add_argument("--stream", action="append", default=[], help="only this stream (repeatable; default: every stream)")
    bk.set_defaults(fn=cmd_backup)
    rs = bsub.add_parser("restore", help="create the streams saved in DIR (each must not exist yet)")
    rs.add_argument("dir")
    rs.add_argument("--replicas", type=int, default=None, help="replica count for the restored streams (default: as saved)")
    rs.set_defaults(fn=cmd_restore)
