"""``xciss token`` and ``xciss keys …``: tokens and the token keys
(``tokenkeys.py``; docs/security.md, "Token keys").

    xciss token --role ROLE [--org ORG]       a bearer token, signed where the signing key is
    xciss keys token-generate FILE            a new Ed25519 private key (PEM, 0600); prints its kid
    xciss keys token-jwks SOURCE... [--drop=KID]   the JWKS of the public halves of PEM keys
                                              and of existing JWKS files, merged
    xciss keys token-check [--identity ID]    this environment's keys, as the start-up check sees them
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from services.runtime.settings import Settings, SettingsError
from services.runtime.tokenkeys import ISSUER, TokenKeyError, generate_private_pem, parse_jwks, public_jwk, signer_of, token_key_problems, token_keys


def cmd_token(args: argparse.Namespace) -> int:
    from services.runtime.roles import Role
    from services.runtime.http.auth import TokenError, issue_token

    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        print(f"xciss: configuration error: {exc}", file=sys.stderr)
        return 2
    problems = token_key_problems(settings, "operator") if settings.mode == "prod" else []
    if problems:
        for p in problems:
            print(f"xciss: unsafe in prod mode [keys.token]: {p}", file=sys.stderr)
        return 2
    try:
        role = Role(args.role)
    except ValueError:
        print(f"xciss: unknown role {args.role!r}; one of {', '.join(r.value for r in Role if r is not Role.ANONYMOUS)}", file=sys.stderr)
        return 2
    try:
        print(issue_token(settings, subject=args.sub or f"dev-{role}", role=role, org=args.org, name=args.name, ttl_s=args.ttl))
    except TokenError as exc:
        print(f"xciss: {exc}: run `xciss token` where the signing key is (XCISS_JWT_SIGNING_KEY_FILE)", file=sys.stderr)
        return 2
    return 0


def cmd_generate(args: argparse.Namespace) -> int:
    path = Path(args.file)
    pem = generate_private_pem()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        print(f"xciss: {path} exists; a signing key is never overwritten", file=sys.stderr)
        return 2
    with os.fdopen(fd, "w") as f:
        f.write(pem)
    print(signer_of(pem).kid)
    return 0


def cmd_jwks(args: argparse.Namespace) -> int:
    keys: dict[str, dict[str, str]] = {}
    for source in args.sources:
        raw = Path(source).read_bytes()
        try:
            if raw.lstrip().startswith(b"{"):
                found = {kid: public_jwk(pub, kid) for kid, pub in parse_jwks(raw).items()}
            else:
                s = signer_of(raw)
                found = {s.kid: public_jwk(s.key.public_key(), s.kid)}
        except TokenKeyError as exc:
            print(f"xciss: {source}: {exc}", file=sys.stderr)
            return 2
        keys.update(found)
    for kid in args.drop:
        if keys.pop(kid, None) is None:
            print(f"xciss: no key {kid!r} to drop", file=sys.stderr)
            return 2
    if not keys:
        print("xciss: the JWKS would hold no key", file=sys.stderr)
        return 2
    print(json.dumps({"keys": list(keys.values())}, indent=2))
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    try:
        settings = Settings.from_env()
        keys = token_keys(settings)
        kids = sorted(keys.verification_keys())
        signing = keys.signer().kid if keys.holds_signing_key else None
    except (SettingsError, TokenKeyError) as exc:
        print(f"xciss: {exc}", file=sys.stderr)
        return 1
    print(f"verification keys: {', '.join(kids) or 'none'}")
    print(f"signing key:       {signing or 'none (verifies only)'}")
    problems = token_key_problems(settings, args.identity)
    for p in problems:
        print(f"UNSAFE keys.token: {p}")
    if not problems:
        print(f"token keys fit {args.identity}")
    return 1 if problems else 0


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    k = sub.add_parser("keys", help="the token keys: generate, publish (JWKS), check")
    ksub = k.add_subparsers(dest="keys_cmd", required=True)
    g = ksub.add_parser("token-generate", help="write a new Ed25519 private key (PEM, 0600) to FILE and print its kid")
    g.add_argument("file")
    g.set_defaults(fn=cmd_generate)
    j = ksub.add_parser("token-jwks", help="print the JWKS of the public halves of PEM keys and JWKS files")
    j.add_argument("sources", nargs="+", help="PEM private keys or JWKS files (merged)")
    j.add_argument("--drop", action="append", default=[], help="leave out this kid (the end of a rotation); write --drop=KID, a kid may begin with -")
    j.set_defaults(fn=cmd_jwks)
    c = ksub.add_parser("token-check", help="check this environment's token keys for a process (exit 1 when unfit)")
    c.add_argument("--identity", default=ISSUER, help="registry (the issuer), a service, gateway or operator")
    c.set_defaults(fn=cmd_check)
