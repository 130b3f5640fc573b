"""``xciss accounts create``: a local account in the registry's database, made
by the operator (the three officers' accounts have no HTTP creation)."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys

from services.registry import accounts
from services.registry.schemas.accounts import Account
from services.runtime.db.unit_of_work import Actor
from services.runtime.errors import DomainError
from services.runtime.roles import Role
from services.runtime.service import create_database, load_spec
from services.runtime.settings import Settings


def create_from_stdin(settings: Settings, args: argparse.Namespace) -> int:
    """Create a local account in the registry (the three officers' accounts
    are created only here). The password is read from standard input, never
    from the command line (it would show in ``ps`` and the shell history)."""
    try:
        role = Role(args.role)
    except ValueError:
        print(f"xciss: unknown role {args.role!r}; one of {', '.join(r.value for r in Role if r not in (Role.ANONYMOUS, Role.SERVICE))}", file=sys.stderr)
        return 2
    if not args.password_stdin:
        print("xciss: give the password on standard input with --password-stdin", file=sys.stderr)
        return 2
    password = sys.stdin.readline().rstrip("\r\n")
    spec = load_spec("registry")

    async def run() -> Account:
        db = create_database(spec, settings)
        try:
            return await accounts.create_account(
                db,
                Actor(subject=f"cli:{getpass.getuser()}", role="operator"),
                None,
                username=args.username,
                password=password,
                role=role,
                org=args.org,
                display_name=args.display_name,
            )
        finally:
            await db.dispose()

    try:
        account = asyncio.run(run())
    except DomainError as exc:
        print(f"xciss: {exc.code}: {exc.message_en} / {exc.message_zh}", file=sys.stderr)
        return 1
    print(f"account {account.username} ({account.role}) created: {account.account_id}")
    return 0
