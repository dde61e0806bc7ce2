"""The URL vetting rules, table-driven, with a stubbed resolver: nothing leaves the machine."""

from __future__ import annotations

import dataclasses
import ipaddress

import pytest

from image_insights.config import Settings
from image_insights.fetch import Fetcher, is_odd_numeric_host, is_public_address, redact
from image_insights.http_errors import ApiError

NOT_PUBLIC = [
    "127.0.0.1", "127.255.255.254", "10.0.0.1", "172.16.0.1", "172.31.255.255", "192.168.0.1",
    "169.254.169.254", "100.64.0.1", "100.127.255.254", "0.0.0.0", "224.0.0.1", "239.1.1.1",
    "255.255.255.255", "240.0.0.1", "192.0.0.8", "198.18.0.1", "192.0.2.1", "198.51.100.1",
    "203.0.113.1", "::1", "::", "fe80::1", "fc00::1", "fd12:3456::1", "ff02::1", "2001:db8::1",
    "::ffff:127.0.0.1", "::ffff:10.0.0.1", "64:ff9b::7f00:1", "64:ff9b::a00:1",
    "64:ff9b:1::808:808", "2002:7f00:1::1", "2002:a00:1::",
]  # fmt: skip
PUBLIC = ["8.8.8.8", "1.1.1.1", "93.184.216.34", "2606:4700:4700::1111", "::ffff:8.8.8.8",
          "64:ff9b::808:808"]  # fmt: skip


@pytest.mark.parametrize("address", NOT_PUBLIC)
def test_not_public(address: str) -> None:
    assert not is_public_address(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", PUBLIC)
def test_public(address: str) -> None:
    assert is_public_address(ipaddress.ip_address(address))


@pytest.mark.parametrize(
    "host, odd",
    [("2130706433", True), ("0x7f000001", True), ("0177.0.0.1", True), ("127.1", True),
     ("0x7f.0.0.1", True), ("127.0.0.01", True), ("127.0.0.1", False), ("8.8.8.8", False),
     ("example.com", False), ("cafe.face", False), ("1e100.net", False), ("0x", True)],
)  # fmt: skip
def test_numeric_spellings(host: str, odd: bool) -> None:
    assert is_odd_numeric_host(host) is odd


@pytest.mark.parametrize(
    "url, redacted",
    [
        ("https://user:pw@example.com:8443/path?q=secret#frag", "https://example.com:8443"),
        ("HTTP://Example.COM/a", "http://example.com"),
        ("http://[::1]:80/a", "http://[::1]:80"),
    ],
)
def test_redaction(url: str, redacted: str) -> None:
    assert redact(url) == redacted


def fetcher_with(addresses: dict[str, list[str]], **changes: object) -> Fetcher:
    def resolver(host: str, port: int) -> list[str]:
        return addresses[host]

    return Fetcher(dataclasses.replace(Settings(), resolver=resolver, **changes))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/", "http://localhost/", "http://LOCALHOST./", "http://[::1]/",
        "http://[::ffff:127.0.0.1]/", "http://2130706433/", "http://0x7f.1/", "http://017700000001/",
        "http://example.com@127.0.0.1/", "http://mixed.test/", "http://10.0.0.1:8080/",
        "https://metadata.test/", "http://[fe80::1%25eth0]/",
    ],
)  # fmt: skip
def test_refused_before_any_connection(url: str) -> None:
    fetcher = fetcher_with(
        {
            "localhost": ["127.0.0.1", "::1"],
            "mixed.test": ["93.184.216.34", "10.0.0.7"],  # one public, one private: refused
            "metadata.test": ["169.254.169.254"],
        }
    )
    with pytest.raises(ApiError) as caught:
        fetcher.fetch(url)
    assert caught.value.status == 400
    assert caught.value.body["detail"]["error"] == "Invalid URL"


def test_allowlist_exempts_only_the_listed_host_and_port() -> None:
    fetcher = fetcher_with({"origin.test": ["127.0.0.1"]},
                           url_fetch_allowlist=frozenset({"origin.test:9"}))  # fmt: skip
    # Port 9 (discard) is closed here: getting past vetting means a connection attempt.
    with pytest.raises(ApiError) as caught:
        fetcher.fetch("http://origin.test:9/a.png")
    assert caught.value.body["detail"]["error"] == "Failed to download image from URL"
    with pytest.raises(ApiError) as caught:
        fetcher.fetch("http://origin.test:10/a.png")
    assert caught.value.body["detail"]["error"] == "Invalid URL"


def test_unresolvable_host() -> None:
    def resolver(host: str, port: int) -> list[str]:
        raise OSError("no such host")

    fetcher = Fetcher(dataclasses.replace(Settings(), resolver=resolver))
    with pytest.raises(ApiError) as caught:
        fetcher.fetch("http://nowhere.test/a.png")
    assert caught.value.body == {
        "detail": {
            "error": "Failed to download image from URL",
            "detail": "could not resolve the host",
            "url": "http://nowhere.test",
        }
    }
