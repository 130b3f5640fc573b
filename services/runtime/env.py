"""Typed values read from the environment (XCISS_* variables), each refusal
naming the variable: the parsing under ``settings.Settings.from_env``."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from services.runtime.client_address import parse_networks


class SettingsError(ValueError):
    """A setting is missing or malformed; the message names the variable."""


def password_of(url: str) -> str | None:
    from urllib.parse import urlsplit

    try:
        return urlsplit(url).password
    except ValueError:
        return None


def without_password(url: str) -> str:
    password = password_of(url)
    return url.replace(f":{password}@", ":***@", 1) if password else url


def env_text(env: Mapping[str, str], name: str, default: str) -> str:
    """The variable's text, even empty; the default when it is unset."""
    return env.get(name, default)


def env_text_or_default(env: Mapping[str, str], name: str, default: str) -> str:
    """The variable's text; the default when it is unset or empty."""
    return env.get(name) or default


def env_optional(env: Mapping[str, str], name: str, _default: None = None) -> str | None:
    """The variable's text; None when it is unset or empty."""
    return env.get(name) or None


def env_path(env: Mapping[str, str], name: str, _default: None = None) -> Path | None:
    """The variable as an absolute path; None when it is unset or empty."""
    raw = env.get(name)
    return Path(raw).resolve() if raw else None


def env_int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise SettingsError(f"{name} must be an integer, not {raw!r}") from exc


def env_positive(env: Mapping[str, str], name: str, default: int) -> int:
    value = env_int(env, name, default)
    if value < 1:
        raise SettingsError(f"{name} must be at least 1, not {value}")
    return value


def env_non_negative(env: Mapping[str, str], name: str, default: int) -> int:
    value = env_int(env, name, default)
    if value < 0:
        raise SettingsError(f"{name} must be 0 or more, not {value}")
    return value


def env_bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = (env.get(name) or "").strip().lower()
    if raw == "":
        return default
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise SettingsError(f"{name} must be true or false, not {raw!r}")


def env_networks(env: Mapping[str, str], name: str, default: str) -> tuple[str, ...]:
    raw = env.get(name)
    try:
        return tuple(str(n) for n in parse_networks(default if raw is None else raw))
    except ValueError as exc:
        raise SettingsError(f"{name}: {exc}") from exc


def env_float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return float(raw)
    except ValueError as exc:
        raise SettingsError(f"{name} must be a number, not {raw!r}") from exc


def env_addresses(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    """``http://a:8101,http://b:8101``: one base URL or several, comma-separated."""
    found: list[str] = []
    for part in env.get(name, "").split(","):
        address = part.strip().rstrip("/")
        if not address:
            continue
        scheme, _, rest = address.partition("://")
        if scheme not in ("http", "https") or not rest or any(c in rest for c in "?# "):
            raise SettingsError(f"{name} must be http(s)://host:port addresses, comma-separated, not {part.strip()!r}")
        if address not in found:
            found.append(address)
    return tuple(found)


def env_origins(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    """``https://a.example.cn,https://b.example.cn:8443``: web origins (scheme, host and
    an optional port; no path, no wildcard), comma-separated; none when unset."""
    found: list[str] = []
    for part in env.get(name, "").split(","):
        origin = part.strip()
        if not origin:
            continue
        scheme, _, host = origin.partition("://")
        if scheme not in ("http", "https") or not host or any(c in host for c in "/?#*@ ") or origin != origin.lower():
            raise SettingsError(f"{name} must be web origins such as https://portal.example.cn (lower case, no path or wildcard), comma-separated, not {origin!r}")
        if origin not in found:
            found.append(origin)
    return tuple(found)
