"""THUNES_TESTNET_URL: testnet pointed at a Binance-compatible local server, validated once."""

from __future__ import annotations

import pytest

from thunes.config import SettingsError, load_settings

KEYS = {"api_key": "k", "api_secret": "s"}


def test_testnet_url_gives_the_rest_and_stream_endpoints() -> None:
    settings = load_settings(
        env_file=None, mode="testnet", testnet_url="http://127.0.0.1:8765/", **KEYS
    )
    assert settings.testnet_api_url == "http://127.0.0.1:8765/api"
    assert settings.testnet_stream_url == "ws://127.0.0.1:8765"


def test_without_the_override_testnet_is_the_real_testnet_and_other_modes_ignore_it() -> None:
    assert load_settings(env_file=None, mode="testnet", **KEYS).testnet_api_url is None
    sim = load_settings(env_file=None, mode="sim", testnet_url="https://example.test")
    assert sim.testnet_api_url is None and sim.testnet_stream_url is None


@pytest.mark.parametrize("url", ["127.0.0.1:8765", "ftp://host", "http://host/path", "http://"])
def test_a_malformed_testnet_url_is_one_clear_line(url: str) -> None:
    with pytest.raises(SettingsError) as error:
        load_settings(env_file=None, mode="testnet", testnet_url=url, **KEYS)
    assert error.value.problems == [
        "THUNES_TESTNET_URL: must be http(s)://HOST[:PORT], e.g. http://127.0.0.1:8765"
    ]
