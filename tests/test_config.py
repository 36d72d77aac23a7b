"""Config: presets, URL normalisation and validation, environment, key redaction."""

from __future__ import annotations

import attrs
import httpx
import pytest
from datagouv_sdk import __version__
from datagouv_sdk.config import PRESETS, Config, host_key
from datagouv_sdk.errors import UsageError
from datagouv_sdk.retry import RetryPolicy

KEY = "udata_s3cr3t-k3y-eyJhbGciOiJIUzUxMiJ9"


def test_defaults_are_prod() -> None:
    config = Config()
    assert config.base_url == "https://www.data.gouv.fr"
    assert config.main_api_url == "https://www.data.gouv.fr/api/1"
    assert config.main_v2_api_url == "https://www.data.gouv.fr/api/2"
    assert config.metrics_url == "https://metric-api.data.gouv.fr"
    assert config.tabular_url == "https://tabular-api.data.gouv.fr"
    assert config.api_key is None
    assert config.preset == "prod"
    assert config.user_agent == f"datagouv-sdk/{__version__}"
    assert config.timeout.connect == 5.0 and config.timeout.read == 30.0
    assert config.retry == RetryPolicy()
    assert config.auth_hosts == frozenset({"www.data.gouv.fr"})


def test_demo_preset_has_no_metrics_and_preprod_tabular() -> None:
    config = Config(base_url="demo")
    assert config.base_url == "https://demo.data.gouv.fr"
    assert config.metrics_url is None
    assert config.tabular_url == "https://tabular-api.preprod.data.gouv.fr"
    assert config.require_tabular_url() == "https://tabular-api.preprod.data.gouv.fr"
    with pytest.raises(UsageError, match=r"no Metrics API.*'demo'.*metrics_url"):
        config.require_metrics_url()


def test_custom_portal_has_no_metrics_or_tabular_unless_given() -> None:
    config = Config(base_url="https://data.example.org")
    assert (config.metrics_url, config.tabular_url, config.preset) == (None, None, None)
    with pytest.raises(UsageError, match=r"Tabular API.*https://data.example.org"):
        config.require_tabular_url()
    given = Config(base_url="https://data.example.org", tabular_url="https://tab.example.org/")
    assert given.tabular_url == "https://tab.example.org"


def test_explicit_none_disables_a_preset_api() -> None:
    assert Config(metrics_url=None).metrics_url is None


@pytest.mark.parametrize(
    ("given", "root"),
    [
        ("https://www.data.gouv.fr/api/1", "https://www.data.gouv.fr"),
        ("https://www.data.gouv.fr/api/1/", "https://www.data.gouv.fr"),
        ("https://www.data.gouv.fr/api/2", "https://www.data.gouv.fr"),
        ("https://WWW.data.gouv.fr/", "https://www.data.gouv.fr"),
        ("PROD", "https://www.data.gouv.fr"),
        (" demo ", "https://demo.data.gouv.fr"),
        ("http://127.0.0.1:7000/api/1", "http://127.0.0.1:7000"),
        ("https://portal.example.org/sub/path/api/1", "https://portal.example.org/sub/path"),
    ],
)
def test_base_url_is_normalised(given: str, root: str) -> None:
    assert Config(base_url=given).base_url == root


def test_normalised_prod_url_still_gets_prod_apis() -> None:
    assert Config(base_url="https://www.data.gouv.fr/api/1/").metrics_url == PRESETS["prod"].metrics_url


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("base_url", "staging"),
        ("base_url", "ftp://www.data.gouv.fr"),
        ("base_url", "https://"),
        ("base_url", ""),
        ("base_url", "https://www.data.gouv.fr/?x=1"),
        ("metrics_url", "metric-api.data.gouv.fr"),
        ("tabular_url", "file:///etc/passwd"),
        ("tabular_url", "http://"),
    ],
)
def test_bad_urls_name_the_field_and_value(field: str, value: str) -> None:
    with pytest.raises(UsageError) as info:
        Config(**{field: value})  # type: ignore[arg-type]
    assert field in str(info.value)
    assert repr(value) in str(info.value)


@pytest.mark.parametrize("value", [0, -1, "30", True])
def test_bad_timeout(value: object) -> None:
    with pytest.raises(UsageError, match=r"timeout"):
        Config(timeout=value)  # type: ignore[arg-type]


def test_numeric_timeout_keeps_a_short_connect() -> None:
    assert Config(timeout=60).timeout == httpx.Timeout(60.0, connect=5.0)
    assert Config(timeout=2).timeout == httpx.Timeout(2.0)


def test_bad_retry() -> None:
    with pytest.raises(UsageError, match=r"RetryPolicy"):
        Config(retry=3)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("base_url", "hosts"),
    [
        ("https://www.data.gouv.fr", {"www.data.gouv.fr"}),
        ("https://www.data.gouv.fr:443", {"www.data.gouv.fr"}),
        ("http://127.0.0.1:8080", {"127.0.0.1:8080"}),
        ("https://portal.example.org:8443/api/1", {"portal.example.org:8443"}),
    ],
)
def test_auth_hosts_is_the_main_host_only(base_url: str, hosts: set[str]) -> None:
    config = Config(
        base_url=base_url, metrics_url="https://m.example.org", tabular_url="https://t.example.org"
    )
    assert config.auth_hosts == frozenset(hosts)


def test_host_key() -> None:
    assert host_key("https://A.example.org/x") == "a.example.org"
    assert host_key("http://a.example.org:80/") == "a.example.org"
    assert host_key(httpx.URL("http://a.example.org:8000/")) == "a.example.org:8000"


def test_api_key_never_in_repr_or_str() -> None:
    config = Config(api_key=KEY)
    assert config.api_key == KEY
    assert KEY not in repr(config) and KEY not in str(config)
    assert "api_key='***'" in repr(config)
    assert "api_key=None" in repr(Config())
    assert KEY not in repr(attrs.evolve(config, base_url="demo"))


def test_blank_api_key_is_none() -> None:
    assert Config(api_key="  ").api_key is None


def test_frozen() -> None:
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        Config().base_url = "x"  # type: ignore[misc]


# -- from_env -------------------------------------------------------------------------------


def test_from_env_reads_every_variable() -> None:
    env = {
        "DATAGOUV_API_KEY": KEY,
        "DATAGOUV_BASE_URL": "https://portal.example.org/api/1",
        "DATAGOUV_METRICS_URL": "https://metrics.example.org",
        "DATAGOUV_TABULAR_URL": "https://tabular.example.org",
    }
    config = Config.from_env(environ=env)
    assert config.api_key == KEY
    assert config.base_url == "https://portal.example.org"
    assert config.metrics_url == "https://metrics.example.org"
    assert config.tabular_url == "https://tabular.example.org"


def test_from_env_empty_is_prod() -> None:
    assert Config.from_env(environ={}) == Config()


def test_from_env_preset_name_in_variable() -> None:
    config = Config.from_env(environ={"DATAGOUV_BASE_URL": "demo"})
    assert config.preset == "demo" and config.metrics_url is None


def test_from_env_explicit_arguments_win() -> None:
    env = {
        "DATAGOUV_BASE_URL": "demo",
        "DATAGOUV_API_KEY": "udata_from-env",
        "DATAGOUV_TABULAR_URL": "https://t.env",
    }
    assert Config.from_env("prod", environ=env).base_url == "https://www.data.gouv.fr"
    config = Config.from_env(
        environ=env,
        base_url="https://other.example.org",
        api_key="udata_explicit",
        tabular_url="https://t.explicit",
    )
    assert config.base_url == "https://other.example.org"
    assert config.api_key == "udata_explicit"
    assert config.tabular_url == "https://t.explicit"


def test_from_env_none_overrides_mean_not_given() -> None:
    # What a CLI passes for options the user did not set.
    env = {"DATAGOUV_API_KEY": KEY}
    config = Config.from_env(environ=env, api_key=None, base_url=None, timeout=None)
    assert config.api_key == KEY and config.base_url == "https://www.data.gouv.fr"


def test_from_env_ignores_blank_variables() -> None:
    config = Config.from_env(environ={"DATAGOUV_BASE_URL": " ", "DATAGOUV_API_KEY": ""})
    assert config == Config()


def test_from_env_uses_os_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATAGOUV_BASE_URL", "demo")
    monkeypatch.setenv("DATAGOUV_API_KEY", KEY)
    config = Config.from_env()
    assert config.preset == "demo" and config.api_key == KEY


def test_from_env_rejects_bad_values_and_options() -> None:
    with pytest.raises(UsageError, match=r"'nowhere'"):
        Config.from_env(environ={"DATAGOUV_BASE_URL": "nowhere"})
    with pytest.raises(UsageError, match=r"metrics_url.*'not a url'.*DATAGOUV_METRICS_URL"):
        Config.from_env(environ={"DATAGOUV_METRICS_URL": "not a url"})
    with pytest.raises(UsageError, match=r"'nowhere'.*DATAGOUV_BASE_URL"):
        Config.from_env(environ={"DATAGOUV_BASE_URL": "nowhere"})
    with pytest.raises(UsageError) as info:
        Config.from_env(environ={"DATAGOUV_BASE_URL": "nowhere"}, base_url="also-bad")
    assert "DATAGOUV_BASE_URL" not in str(info.value) and "'also-bad'" in str(info.value)
    with pytest.raises(UsageError, match=r"unknown Config option.*base_uri"):
        Config.from_env(environ={}, base_uri="https://x.org")
