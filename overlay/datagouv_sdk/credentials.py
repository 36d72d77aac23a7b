"""API keys: what a plausible key looks like, and the keys `dgv auth login` keeps for each portal.

Since udata 16 an API key is a revocable token (`/api/1/me/api_tokens/`), `udata_` followed by 64
URL-safe characters on data.gouv.fr. `check_api_key` refuses what cannot be a key before any
request is made — inner whitespace or control characters, quotes, a pasted URL or `X-API-KEY:`
header, and on data.gouv.fr (prod, demo) a missing `udata_` prefix — without ever echoing the key.
Surrounding whitespace (a newline from a file) is stripped.

Stored keys live in one JSON file, `credentials.json` in the user's config directory (platformdirs:
`~/.config/datagouv-sdk/` on Linux; `DATAGOUV_CONFIG_DIR` overrides it), one entry per portal
(base URL), so a key stored for demo is never used for prod. The file is written atomically with
mode 0600 in a 0700 directory, and refused when others can read it (as ssh does with private keys).
Precedence, applied by `Config.from_env`: an explicit `api_key=` (the `--api-key` flag), then
`DATAGOUV_API_KEY`, then the stored key of the configured portal.
"""

from __future__ import annotations

import json
import os
import re
import stat
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import attrs

from datagouv_sdk.errors import UsageError

__all__ = [
    "ENV_CONFIG_DIR",
    "TOKEN_PREFIX",
    "StoredKey",
    "check_api_key",
    "credentials_path",
    "forget_key",
    "key_hint",
    "store_key",
    "stored_key",
]

ENV_CONFIG_DIR = "DATAGOUV_CONFIG_DIR"
TOKEN_PREFIX = "udata_"  # udata's API_TOKEN_PREFIX default, and data.gouv.fr's
# udata shows a token by its first characters (`token_prefix`: the prefix and 8 more).
HINT_LENGTH = len(TOKEN_PREFIX) + 8
# Portals known to issue `udata_` tokens (the presets' hosts); other udata portals may configure
# another prefix, so only the shape of their keys is checked.
_TOKEN_HOSTS = frozenset({"www.data.gouv.fr", "data.gouv.fr", "demo.data.gouv.fr"})
_URL_SAFE = re.compile(r"[A-Za-z0-9_-]+")
_FILE_VERSION = 1


def _host(base_url: str) -> str:
    return base_url.split("://", 1)[-1].split("/", 1)[0].split(":", 1)[0].lower()


def check_api_key(value: str, *, base_url: str | None = None, name: str = "api_key") -> str:
    """The key, stripped of surrounding whitespace, or a `UsageError` saying why it cannot be one.

    The message never contains the key (it may be a real secret pasted in the wrong place)."""
    if not isinstance(value, str):
        raise UsageError(f"{name} must be a string, got {type(value).__name__}")
    key = value.strip()
    if not key:
        raise UsageError(f"{name} is empty")
    if "://" in key or key.lower().startswith("www."):
        raise UsageError(
            f"{name} looks like a URL, not an API key: copy the key itself (your profile's API tokens "
            "page), or pass the portal's URL as base_url / --base-url"
        )
    if key.lower().startswith(("x-api-key", "bearer ", "authorization")):
        raise UsageError(
            f"{name} contains a header name: give only the key, without 'X-API-KEY:' or 'Bearer'"
        )
    position = next((i for i, c in enumerate(key) if c.isspace() or not c.isprintable()), None)
    if position is not None:
        raise UsageError(
            f"{name} contains whitespace or a control character (at position {position + 1} of {len(key)}): "
            "an API key is one word; check what was pasted"
        )
    if key[0] in "\"'`" or key[-1] in "\"'`":
        raise UsageError(f"{name} is wrapped in quotes: give the key without them")
    if base_url is not None and _host(base_url) in _TOKEN_HOSTS:
        if not key.startswith(TOKEN_PREFIX):
            raise UsageError(
                f"{name} does not start with {TOKEN_PREFIX!r}: data.gouv.fr API keys are tokens "
                f"'{TOKEN_PREFIX}…' (since udata 16); create one on your profile's API tokens page"
            )
        if not _URL_SAFE.fullmatch(key):
            raise UsageError(
                f"{name} has characters a data.gouv.fr token never has (only letters, digits, '_' and '-')"
            )
    return key


def key_hint(key: str) -> str:
    """What udata itself shows of a token (`token_prefix`): its first characters, then an ellipsis."""
    return key[:HINT_LENGTH] + "…" if len(key) > HINT_LENGTH else "***"


@attrs.frozen
class StoredKey:
    """A key kept for one portal, with what `dgv auth login` learnt about it."""

    base_url: str
    api_key: str = attrs.field(repr=lambda _: "'***'")
    user: str | None = None  # the account's name when the key was stored
    token_id: str | None = None  # the server's id of the token, when known (to revoke it)
    stored_at: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "api_key": self.api_key,
            "user": self.user,
            "token_id": self.token_id,
            "stored_at": self.stored_at,
        }


def credentials_path(environ: dict[str, str] | None = None) -> Path:
    env = os.environ if environ is None else environ
    override = env.get(ENV_CONFIG_DIR, "").strip()
    if override:
        return Path(override).expanduser() / "credentials.json"
    import platformdirs  # only when a key is looked up: `import datagouv_sdk` stays cheap

    return Path(platformdirs.user_config_dir("datagouv-sdk", appauthor=False)) / "credentials.json"


def _read(path: Path) -> dict[str, Any]:
    try:
        info = path.stat()
    except FileNotFoundError:
        return {"version": _FILE_VERSION, "portals": {}}
    if os.name == "posix" and info.st_mode & 0o077:
        raise UsageError(
            f"{path} is readable by other users (mode {stat.filemode(info.st_mode)}): it holds API keys; "
            f"run `chmod 600 {path}` (or delete it and log in again)"
        )
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UsageError(
            f"{path} is not a readable credentials file ({exc}); delete it and log in again"
        ) from exc
    if not isinstance(data, dict) or not isinstance(data.get("portals"), dict):
        raise UsageError(f"{path} is not a credentials file of this SDK; delete it and log in again")
    return data


def _write(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(prefix=".credentials-", suffix=".json", dir=path.parent)  # mode 0600
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle, indent=2, sort_keys=True)
            handle.write("\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp, 0o600)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def stored_key(base_url: str, *, path: Path | None = None) -> StoredKey | None:
    """The key stored for this portal (base URL as `Config.base_url` has it), or None."""
    path = path or credentials_path()
    entry = _read(path)["portals"].get(base_url)
    if not isinstance(entry, dict) or not isinstance(entry.get("api_key"), str):
        return None
    return StoredKey(
        base_url=base_url,
        api_key=check_api_key(entry["api_key"], base_url=base_url, name=f"the key stored in {path}"),
        user=entry.get("user"),
        token_id=entry.get("token_id"),
        stored_at=entry.get("stored_at"),
    )


def store_key(
    base_url: str,
    api_key: str,
    *,
    user: str | None = None,
    token_id: str | None = None,
    path: Path | None = None,
) -> StoredKey:
    """Keep `api_key` for this portal (replacing any key stored for it); returns what was stored."""
    path = path or credentials_path()
    stored = StoredKey(
        base_url=base_url,
        api_key=check_api_key(api_key, base_url=base_url),
        user=user,
        token_id=token_id,
        stored_at=datetime.now(UTC).isoformat(timespec="seconds"),
    )
    data = _read(path)
    data["version"] = _FILE_VERSION
    data["portals"][base_url] = stored.to_json()
    _write(path, data)
    return stored


def forget_key(base_url: str, *, path: Path | None = None) -> StoredKey | None:
    """Remove the key stored for this portal; returns it (None when there was none)."""
    path = path or credentials_path()
    data = _read(path)
    entry = data["portals"].pop(base_url, None)
    if entry is None:
        return None
    _write(path, data)
    return StoredKey(
        base_url=base_url,
        api_key=str(entry.get("api_key", "")),
        user=entry.get("user"),
        token_id=entry.get("token_id"),
        stored_at=entry.get("stored_at"),
    )
