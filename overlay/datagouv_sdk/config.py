"""Where the APIs live and how to talk to them: base URLs, presets, environment, timeouts.

`Config.base_url` is the udata portal root: a value ending in /api/1 or /api/2 is stripped, a preset
name ("prod", "demo") accepted. `metrics_url`/`tabular_url` None means this portal has no such API;
`api_key` is redacted from repr/str, and a value that cannot be a key is refused
(`credentials.check_api_key`); a number as `timeout` is the read/write/pool timeout, with a 5 s
connect. `Config.from_env` reads the DATAGOUV_* variables; explicit arguments win over them, and an
override of None counts as "not given"; with no key from either, it takes the key `dgv auth login`
stored for the portal (`use_stored_key=False`: none).

When `metrics_url` / `tabular_url` are not given they follow the portal: the preset's URLs for a
known portal (prod, demo), None for any other udata portal. The demo portal has no Metrics API; its
Tabular API is the preprod host.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import attrs
import httpx

from datagouv_sdk._version import __version__
from datagouv_sdk.errors import UsageError
from datagouv_sdk.retry import RetryPolicy

__all__ = [
    "DEFAULT_TIMEOUT",
    "DEFAULT_USER_AGENT",
    "ENV_API_KEY",
    "ENV_BASE_URL",
    "ENV_METRICS_URL",
    "ENV_TABULAR_URL",
    "PRESETS",
    "Config",
    "Preset",
    "host_key",
]

ENV_API_KEY = "DATAGOUV_API_KEY"
ENV_BASE_URL = "DATAGOUV_BASE_URL"
ENV_METRICS_URL = "DATAGOUV_METRICS_URL"
ENV_TABULAR_URL = "DATAGOUV_TABULAR_URL"

# A short connect timeout fails fast on a dead host; reads get longer (search and exports are slow).
DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=5.0)
DEFAULT_USER_AGENT = f"datagouv-sdk/{__version__}"


@attrs.frozen
class Preset:
    base_url: str
    metrics_url: str | None
    tabular_url: str | None


PRESETS: dict[str, Preset] = {
    "prod": Preset(
        base_url="https://www.data.gouv.fr",
        metrics_url="https://metric-api.data.gouv.fr",
        tabular_url="https://tabular-api.data.gouv.fr",
    ),
    # No Metrics API exists for demo; its Tabular API is the preprod deployment.
    "demo": Preset(
        base_url="https://demo.data.gouv.fr",
        metrics_url=None,
        tabular_url="https://tabular-api.preprod.data.gouv.fr",
    ),
}


def host_key(url: str | httpx.URL) -> str:
    """ "host" or "host:port" (port only when not the scheme's default): how auth hosts are compared."""
    parsed = httpx.URL(url) if isinstance(url, str) else url
    host = parsed.host.lower()
    return f"{host}:{parsed.port}" if parsed.port is not None else host


def _checked_url(name: str, value: str) -> str:
    try:
        parsed = httpx.URL(value)
    except (httpx.InvalidURL, TypeError) as exc:
        raise UsageError(f"{name} is not a valid URL: {value!r} ({exc})") from exc
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise UsageError(f"{name} must be an http(s) URL with a host, got {value!r}")
    if parsed.query or parsed.fragment:
        raise UsageError(f"{name} must not carry a query or fragment, got {value!r}")
    return str(parsed).rstrip("/")


def _portal_root(value: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise UsageError(
            f"base_url must be a URL or a preset name ({', '.join(sorted(PRESETS))}), got {value!r}"
        )
    value = value.strip()
    if value.lower() in PRESETS:
        return PRESETS[value.lower()].base_url
    if "://" not in value:
        raise UsageError(
            f"base_url {value!r} is neither a preset ({', '.join(sorted(PRESETS))}) nor an http(s) URL"
        )
    url = _checked_url("base_url", value)
    for suffix in ("/api/1", "/api/2"):
        if url.endswith(suffix):
            return url[: -len(suffix)]
    return url


def _optional_url(name: str, value: str | None) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise UsageError(f"{name} must be a URL string or None, got {value!r}")
    return _checked_url(name, value.strip())


def _metrics_url(value: str | None) -> str | None:
    return _optional_url("metrics_url", value)


def _tabular_url(value: str | None) -> str | None:
    return _optional_url("tabular_url", value)


def _timeout(value: httpx.Timeout | float | None) -> httpx.Timeout:
    if value is None:
        return DEFAULT_TIMEOUT
    if isinstance(value, httpx.Timeout):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0:
        return httpx.Timeout(float(value), connect=min(5.0, float(value)))
    raise UsageError(f"timeout must be a positive number of seconds or an httpx.Timeout, got {value!r}")


def _retry(value: RetryPolicy | None) -> RetryPolicy:
    if value is None:
        return RetryPolicy()
    if not isinstance(value, RetryPolicy):
        raise UsageError(f"retry must be a RetryPolicy, got {type(value).__name__}")
    return value


def _redacted(value: str | None) -> str:
    return "None" if value is None else "'***'"


def _api_key(value: str | None) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise UsageError(f"api_key must be a string, got {type(value).__name__}")
    value = value.strip()
    return value or None


def _check_api_key(config: Config, attribute: attrs.Attribute[str | None], value: str | None) -> None:
    if value is not None:
        from datagouv_sdk.credentials import check_api_key

        check_api_key(value, base_url=config.base_url)


def _preset_for(base_url: str) -> Preset | None:
    for preset in PRESETS.values():
        if preset.base_url == base_url:
            return preset
    return None


@attrs.frozen
class Config:
    """Everything a client needs to reach the three APIs. Immutable; derive with `attrs.evolve`."""

    base_url: str = attrs.field(default=PRESETS["prod"].base_url, converter=_portal_root)
    metrics_url: str | None = attrs.field(converter=_metrics_url)
    tabular_url: str | None = attrs.field(converter=_tabular_url)
    api_key: str | None = attrs.field(
        default=None, converter=_api_key, validator=_check_api_key, repr=_redacted
    )
    timeout: httpx.Timeout = attrs.field(default=DEFAULT_TIMEOUT, converter=_timeout)
    retry: RetryPolicy = attrs.field(factory=RetryPolicy, converter=_retry)
    user_agent: str = DEFAULT_USER_AGENT

    @metrics_url.default
    def _default_metrics_url(self) -> str | None:
        preset = _preset_for(self.base_url)
        return preset.metrics_url if preset else None

    @tabular_url.default
    def _default_tabular_url(self) -> str | None:
        preset = _preset_for(self.base_url)
        return preset.tabular_url if preset else None

    @property
    def main_api_url(self) -> str:
        """Base URL of the generated Main API v1 client."""
        return self.base_url + "/api/1"

    @property
    def main_v2_api_url(self) -> str:
        """Base URL of the generated Main API v2 client."""
        return self.base_url + "/api/2"

    @property
    def auth_hosts(self) -> frozenset[str]:
        """Hosts ("host[:port]") that may receive the API key: the Main API host only."""
        return frozenset({host_key(self.base_url)})

    @property
    def preset(self) -> str | None:
        """The preset name whose portal this is, or None for a custom portal."""
        for name, preset in PRESETS.items():
            if preset.base_url == self.base_url:
                return name
        return None

    def require_metrics_url(self) -> str:
        """The Metrics API URL, or a UsageError saying this portal has none."""
        if self.metrics_url is None:
            raise UsageError(
                f"no Metrics API is configured for {self._portal_name()}"
                f"{' (data.gouv.fr has no demo Metrics API)' if self.preset == 'demo' else ''}; "
                f"pass metrics_url=... or set {ENV_METRICS_URL}"
            )
        return self.metrics_url

    def require_tabular_url(self) -> str:
        """The Tabular API URL, or a UsageError saying this portal has none."""
        if self.tabular_url is None:
            raise UsageError(
                f"no Tabular API is configured for {self._portal_name()}; "
                f"pass tabular_url=... or set {ENV_TABULAR_URL}"
            )
        return self.tabular_url

    def _portal_name(self) -> str:
        return f"the {self.preset!r} portal" if self.preset else f"the portal {self.base_url}"

    @classmethod
    def from_env(
        cls,
        preset: str | None = None,
        *,
        environ: Mapping[str, str] | None = None,
        use_stored_key: bool = True,
        **overrides: Any,
    ) -> Config:
        """A Config from `preset` (default: DATAGOUV_BASE_URL, else "prod"), the DATAGOUV_*
        variables, then `overrides` (any Config field). Empty variables and None overrides are ignored.
        Without a key from either, the key `dgv auth login` stored for this portal is used
        (`use_stored_key=False`: none)."""
        unknown = set(overrides) - {f.name for f in attrs.fields(cls)}
        if unknown:
            raise UsageError(f"unknown Config option(s): {', '.join(sorted(unknown))}")
        env = os.environ if environ is None else environ

        def from_env_var(name: str) -> str | None:
            value = env.get(name, "").strip()
            return value or None

        values: dict[str, Any] = {}
        from_variable: dict[str, str] = {}  # field -> variable it came from, to name it in errors
        for field, var in (
            ("base_url", ENV_BASE_URL),
            ("metrics_url", ENV_METRICS_URL),
            ("tabular_url", ENV_TABULAR_URL),
            ("api_key", ENV_API_KEY),
        ):
            value = from_env_var(var)
            if value is not None:
                values[field], from_variable[field] = value, var
        if preset is not None:
            values["base_url"] = preset
            from_variable.pop("base_url", None)
        for field, value in overrides.items():
            if value is not None:
                values[field] = value
                from_variable.pop(field, None)
        try:
            config = cls(**values)
        except UsageError as exc:
            source = next((v for f, v in from_variable.items() if str(exc).startswith(f)), None)
            if source is None:
                raise
            raise UsageError(f"{exc} (from the environment variable {source})") from exc
        if config.api_key is None and use_stored_key:
            from datagouv_sdk.credentials import credentials_path, stored_key

            stored = stored_key(config.base_url, path=credentials_path(dict(env)))
            if stored is not None:
                config = attrs.evolve(config, api_key=stored.api_key)
        return config
