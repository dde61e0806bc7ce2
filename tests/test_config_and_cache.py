"""Settings from the environment, and the result cache's LRU and TTL rules."""

from __future__ import annotations

import pytest

from image_insights.cache import ResultCache, upload_key, url_key
from image_insights.config import Settings, SettingsError


def test_defaults_match_the_contract() -> None:
    settings = Settings.from_env({})
    assert settings.cache_enabled is True
    assert settings.cache_max_size == 512
    assert settings.cache_ttl_seconds == 86400
    assert settings.detailed_logging is True
    assert settings.port == 8080
    assert settings.max_image_pixels == 50_000_000
    assert settings.url_fetch_allowlist == frozenset()
    assert settings.max_upload_bytes == 5_242_880


def test_values_are_read() -> None:
    settings = Settings.from_env(
        {
            "CACHE_ENABLED": "False",
            "CACHE_MAX_SIZE": "3",
            "CACHE_TTL_SECONDS": "1.5",
            "ENABLE_DETAILED_LOGGING": "0",
            "PORT": "9000",
            "MAX_IMAGE_PIXELS": "1000",
            "URL_FETCH_ALLOWLIST": " Origin.Test , 127.0.0.1:8081,,",
        }
    )
    assert (settings.cache_enabled, settings.cache_max_size, settings.cache_ttl_seconds) == (
        False, 3, 1.5,
    )  # fmt: skip
    assert (settings.detailed_logging, settings.port, settings.max_image_pixels) == (
        False, 9000, 1000,
    )  # fmt: skip
    assert settings.url_fetch_allowlist == frozenset({"origin.test", "127.0.0.1:8081"})


@pytest.mark.parametrize(
    "name, value",
    [
        ("CACHE_ENABLED", "maybe"),
        ("CACHE_MAX_SIZE", "ten"),
        ("CACHE_MAX_SIZE", "-1"),
        ("CACHE_TTL_SECONDS", "soon"),
        ("PORT", "70000"),
        ("MAX_IMAGE_PIXELS", "0"),
        ("ENABLE_DETAILED_LOGGING", "2"),
    ],
)
def test_malformed_value_names_the_variable(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name):
        Settings.from_env({name: value})


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_lru_eviction() -> None:
    cache = ResultCache(max_size=2, ttl_seconds=60, clock=FakeClock())
    cache.put("a", {"v": 1})
    cache.put("b", {"v": 2})
    assert cache.get("a") == {"v": 1}  # a is now the most recent
    cache.put("c", {"v": 3})
    assert cache.get("b") is None
    assert cache.get("a") == {"v": 1} and cache.get("c") == {"v": 3}
    assert len(cache) == 2


def test_ttl_expiry() -> None:
    clock = FakeClock()
    cache = ResultCache(max_size=10, ttl_seconds=5, clock=clock)
    cache.put("a", {"v": 1})
    clock.now += 4.9
    assert cache.get("a") == {"v": 1}
    clock.now += 0.2
    assert cache.get("a") is None
    assert len(cache) == 0


def test_disabled_cache_stores_nothing() -> None:
    for cache in (
        ResultCache(max_size=10, ttl_seconds=5, clock=FakeClock(), enabled=False),
        ResultCache(max_size=0, ttl_seconds=5, clock=FakeClock()),
    ):
        cache.put("a", {"v": 1})
        assert cache.get("a") is None


def test_returned_results_are_copies() -> None:
    cache = ResultCache(max_size=10, ttl_seconds=5, clock=FakeClock())
    cache.put("a", {"v": 1})
    got = cache.get("a")
    assert got is not None
    got["cached"] = True
    assert cache.get("a") == {"v": 1}


def test_keys() -> None:
    assert upload_key(b"img", ("median", "brightness"), None) == upload_key(
        b"img", ("brightness", "median"), None
    )
    assert upload_key(b"img", ("brightness",), None) != upload_key(b"img", ("brightness",), "all")
    assert upload_key(b"img", ("brightness",), None) != upload_key(b"img2", ("brightness",), None)
    key = url_key("https://example.com/secret.png", ("brightness",), None)
    assert len(key) == 64 and "example" not in key


def test_upload_and_url_keys_never_meet() -> None:
    url = "http://example.com/img.png"
    assert upload_key(url.encode(), ("brightness",), None) != url_key(url, ("brightness",), None)


@pytest.mark.parametrize(
    "first, second",
    [
        # Field boundaries moved between the subject, the metrics and the edge mode.
        ((b"img", ("brightness",), None), (b"im", ("gbrightness",), None)),
        ((b"img", ("brightness", "median"), None), (b"img", ("brightnessmedian",), None)),
        ((b"img", ("brightness",), "all"), (b"img", ("brightnessall",), None)),
        ((b"img", (), None), (b"img", (), "")),
        ((b"", ("brightness",), None), (b"brightness", (), None)),
    ],
)
def test_keys_are_unambiguously_framed(
    first: tuple[bytes, tuple[str, ...], str | None],
    second: tuple[bytes, tuple[str, ...], str | None],
) -> None:
    assert upload_key(*first) != upload_key(*second)
    assert url_key(first[0].decode(), *first[1:]) != url_key(second[0].decode(), *second[1:])
