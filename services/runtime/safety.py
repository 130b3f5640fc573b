"""Refusing to run unsafe in production, at start-up, not at the first request.

In prod and staging modes (``XCISS_MODE=prod|staging``) every process checks, before it serves or
consumes anything, what the platform's security rests on; each problem has a
stable code, and one problem stops the process with exit code 2 and every
problem listed on standard error:

============================= ================================================
code                          unsafe when
============================= ================================================
``bus.anonymous_client``      the process would connect to NATS without an nkey
                              (no XCISS_NATS_NKEY_FILE or credentials directory)
``bus.no_tls``                the NATS connection is not TLS (``tls://`` URL or
                              XCISS_NATS_TLS_CA_FILE)
``bus.accepts_anonymous``     the NATS server admits a client without
                              credentials (tried at start-up)
``bus.refused``               the server refuses this process's own key
``keys.field_missing``        XCISS_FIELD_KEYS is not set (fields encrypted at
                              rest would use a key derived from a dev file)
``keys.pii_missing``          XCISS_PII_KEY is not set
``keys.token``                the token keys are missing or held by the wrong
                              process: registry without the signing key or
                              with one not in the JWKS; any other process
                              holding the signing key, or without the JWKS
                              (``tokenkeys.token_key_problems``)
``demo.on``                   XCISS_DEMO is on (demo sign-in, public passwords)
``proxies.too_wide``          XCISS_TRUSTED_PROXIES trusts everybody, or a
                              public network wider than a /24 (IPv6: /64)
``clock.simulated``           a simulated time is stored in the test clock's
                              bucket (prod only; ``xciss clock reset``)
============================= ================================================

The operator's tooling (``xciss streams``, identity ``operator``) is checked
for the bus only: it holds no data or token key.

Dev mode (the laptop, the tests) checks nothing here. Staging checks all but
the test clock, which it may run on.
"""

from __future__ import annotations

import asyncio
import sys
from dataclasses import dataclass

import nats

from services.runtime.bus.connect import BusRefused, connect_nats, is_auth_error
from services.runtime.bus_identity.credentials import BusAccess
from services.runtime.bus_identity.permissions import OPERATOR
from services.runtime.client_address import Network, parse_networks
from services.runtime.settings import Settings, SettingsError
from services.runtime.tokenkeys import token_key_problems


@dataclass(frozen=True)
class Problem:
    code: str
    message: str


#: the widest public network a trusted proxy list may name (IPv4, IPv6 prefix lengths)
WIDEST_PUBLIC_PREFIX = {4: 24, 6: 64}


def too_wide(network: Network) -> bool:
    if network.prefixlen == 0:
        return True
    if network.is_private or network.is_loopback or network.is_link_local:
        return False
    return network.prefixlen < WIDEST_PUBLIC_PREFIX[network.version]


def configuration_problems(settings: Settings, identity: str, *, signs_tokens: bool | None = None) -> list[Problem]:
    """What the settings alone show (pure); empty in dev mode."""
    if settings.mode == "dev":
        return []
    out: list[Problem] = []
    if settings.nats_url:
        try:
            access = settings.bus(identity)
        except SettingsError as exc:
            out.append(Problem("bus.anonymous_client", str(exc)))
        else:
            if access.seed_file is None:
                out.append(Problem("bus.anonymous_client", "no NATS credentials: set XCISS_NATS_NKEY_FILE to this process's nkey seed"))
            if not access.tls:
                out.append(Problem("bus.no_tls", "the NATS connection is not encrypted: use a tls:// URL and XCISS_NATS_TLS_CA_FILE"))
    if identity == OPERATOR:  # the streams Job: it declares streams and holds no data key
        return out
    if not settings.field_keys:
        out.append(Problem("keys.field_missing", "XCISS_FIELD_KEYS is not set: personal and financial fields need their own keys"))
    if not settings.pii_secret:
        out.append(Problem("keys.pii_missing", "XCISS_PII_KEY is not set"))
    out += [Problem("keys.token", text) for text in token_key_problems(settings, identity, signs=signs_tokens)]
    if settings.demo:
        out.append(Problem("demo.on", "XCISS_DEMO is on: demo sign-in and the demo accounts' public password must never reach production"))
    wide = [str(n) for n in parse_networks(",".join(settings.trusted_proxies)) if too_wide(n)]
    if wide:
        out.append(
            Problem("proxies.too_wide", f"XCISS_TRUSTED_PROXIES trusts {', '.join(wide)}: name the proxies' own networks, so no client can forge its address")
        )
    return out


async def bus_problems(access: BusAccess, *, refuse_test_clock: bool = False) -> list[Problem]:
    """Try the server as this identity and as nobody; in production, look for a simulated time."""
    out: list[Problem] = []
    try:
        nc = await asyncio.wait_for(connect_nats(access, f"xciss-{access.identity}-safety"), 30)
    except BusRefused as exc:
        return [Problem("bus.refused", str(exc))]
    except asyncio.TimeoutError:
        return []  # unreachable: the process waits for the bus as it always has
    try:
        if refuse_test_clock and await _simulated_time_stored(nc):
            out.append(Problem("clock.simulated", "a simulated time is stored in the test clock (XCISS_CLOCK): production runs on real time; run `xciss clock reset`"))
    finally:
        await nc.close()
    anonymous = BusAccess(url=access.url, identity="anonymous", tls_ca_file=access.tls_ca_file)
    options = anonymous.connect_options()
    options.pop("inbox_prefix")
    try:
        probe = await nats.connect(access.servers, connect_timeout=3, allow_reconnect=False, max_reconnect_attempts=0, error_cb=_quiet, **options)
    except Exception as exc:  # noqa: BLE001 - refused, as it should be
        if not is_auth_error(exc):
            return out
    else:
        await probe.close()
        out.append(Problem("bus.accepts_anonymous", f"the NATS server at {access.url} admits clients without credentials"))
    return out


async def _quiet(exc: Exception) -> None:
    return None


async def _simulated_time_stored(nc: nats.NATS) -> bool:
    from services.runtime.bus import testclock

    try:
        kv = await testclock.bucket(nc, create=False)
        return await testclock.read(kv) is not None
    except Exception:  # noqa: BLE001 - no bucket (or not readable by this identity): no simulated time
        return False


async def problems_of(settings: Settings, identity: str, *, signs_tokens: bool | None = None) -> list[Problem]:
    """Everything unsafe for ``identity`` in prod mode (what :func:`enforce` refuses);
    ``signs_tokens``: whether this process issues tokens (default: registry does)."""
    problems = configuration_problems(settings, identity, signs_tokens=signs_tokens)
    if settings.nats_url and not any(p.code == "bus.anonymous_client" for p in problems):
        problems += await bus_problems(settings.bus(identity), refuse_test_clock=settings.mode == "prod")
    return problems


async def enforce(settings: Settings, identity: str, *, signs_tokens: bool | None = None) -> None:
    """Stop the process (exit 2) in prod or staging mode when anything is unsafe."""
    if settings.mode == "dev":
        return
    problems = await problems_of(settings, identity, signs_tokens=signs_tokens)
    if problems:
        for p in problems:
            print(f"xciss: unsafe in {settings.mode} mode [{p.code}]: {p.message}", file=sys.stderr)
        print(f"xciss: {identity}: refusing to start ({len(problems)} problem(s); docs/security.md)", file=sys.stderr)
        raise SystemExit(2)
