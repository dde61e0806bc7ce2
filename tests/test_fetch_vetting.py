"""The URL vetting rules, table-driven, with a stubbed resolver: nothing leaves the machine."""

from __future__ import annotations

import dataclasses
import ipaddress

import pytest

from image_insights.config import Resolver, Settings
from image_insights.errors import DownloadError
from image_insights.fetch import Fetcher, is_odd_numeric_host, is_public_address, redact
from image_insights.http_errors import ApiError, render
from tests.support.origin import Origin


def answer(error: DownloadError) -> ApiError:
    """The contract's answer to a download's failure."""
    rendered = render(error)
    assert rendered is not None, error
    return rendered

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
        ("https://user@Café.Test:8443/café?q=ü#x", "https://xn--caf-dma.test:8443"),
        ("http://ｅｘａｍｐｌｅ.com/a", "http://example.com"),
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
    with pytest.raises(DownloadError) as caught:
        fetcher.fetch(url)
    assert answer(caught.value).status == 400
    assert answer(caught.value).body["detail"]["error"] == "Invalid URL"


def test_allowlist_exempts_only_the_listed_host_and_port() -> None:
    fetcher = fetcher_with({"origin.test": ["127.0.0.1"]},
                           url_fetch_allowlist=frozenset({"origin.test:9"}))  # fmt: skip
    # Port 9 (discard) is closed here: getting past vetting means a connection attempt.
    with pytest.raises(DownloadError) as caught:
        fetcher.fetch("http://origin.test:9/a.png")
    assert answer(caught.value).body["detail"]["error"] == "Failed to download image from URL"
    with pytest.raises(DownloadError) as caught:
        fetcher.fetch("http://origin.test:10/a.png")
    assert answer(caught.value).body["detail"]["error"] == "Invalid URL"


def test_unresolvable_host() -> None:
    def resolver(host: str, port: int) -> list[str]:
        raise OSError("no such host")

    fetcher = Fetcher(dataclasses.replace(Settings(), resolver=resolver))
    with pytest.raises(DownloadError) as caught:
        fetcher.fetch("http://nowhere.test/a.png")
    assert answer(caught.value).body == {
        "detail": {
            "error": "Failed to download image from URL",
            "detail": "could not resolve the host",
            "url": "http://nowhere.test",
        }
    }


# --- the other refusals of the contract -------------------------------------------------------------

MORE_NOT_PUBLIC = [
    # IPv4: this-network, loopback beyond .1, multicast, broadcast, reserved, protocol
    # assignments, the deprecated 6to4 relay anycast.
    "0.1.2.3", "127.1.2.3", "224.0.0.251", "233.252.0.1", "255.255.255.254", "192.0.0.9",
    "192.0.0.170", "192.88.99.1",
    # IPv6: discard-only, ORCHID, benchmarking, Teredo, global multicast, site-local and
    # IPv4-compatible (deprecated; regression: `ipaddress` calls both global).
    "100::1", "2001:10::1", "2001:2::1", "2001::1", "ff0e::1", "fec0::1", "::7f00:1",
    "::a00:1", "fd00:ec2::254",
    # IPv4-mapped and NAT64 forms of private, link-local and CGNAT addresses.
    "::ffff:169.254.169.254", "::ffff:0.0.0.0", "::ffff:100.64.0.1", "64:ff9b::c0a8:101",
    "64:ff9b::6440:1", "64:ff9b::a9fe:a9fe", "2001:0:4136:e378:8000:63bf:3fff:fdd2",
]  # fmt: skip


@pytest.mark.parametrize("address", MORE_NOT_PUBLIC)
def test_more_not_public(address: str) -> None:
    assert not is_public_address(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", ["2001:4860:4860::8888", "2620:0:ccc::2", "192.31.196.1"])
def test_more_public(address: str) -> None:
    assert is_public_address(ipaddress.ip_address(address))


def _no_resolution(host: str, port: int) -> list[str]:
    raise AssertionError(f"{host} must be refused before any resolution")


REFUSED_WITHOUT_RESOLVING = [
    # decimal, octal, hex and short IPv4 spellings of loopback and the metadata address
    "http://0177.0.0.1/", "http://0x7f000001/", "http://0x7f.0x0.0x0.0x1/", "http://127.1/",
    "http://127.0.1/", "http://0/", "http://2130706433:80/", "http://2852039166/",
    "http://0251.0376.0251.0376/", "http://0xa9fea9fe/",
    # IPv6 literals, mapped and compatible forms, with and without zone ids
    "http://[::]/", "http://[0:0:0:0:0:0:0:1]/", "http://[::ffff:7f00:1]/",
    "http://[::ffff:169.254.169.254]/", "http://[::7f00:1]/", "http://[64:ff9b::a9fe:a9fe]/",
    "http://[fe80::1%25lo]:8080/",
    # userinfo and fragment tricks: the host is the part after the last '@'
    "http://example.com@127.0.0.1/", "http://example.com:80@127.0.0.1/",
    "http://user:pass@[::1]/", "http://8.8.8.8@10.0.0.1:8080/x", "http://a@b@127.0.0.1/",
    "http://example.com\\@127.0.0.1/", "http://127.0.0.1:80#@example.com/",
    "http://127.0.0.1?@example.com/",
    # trailing dots and mixed case on literals; ports of every kind
    "http://127.0.0.1./", "HTTP://169.254.169.254/latest/meta-data/", "http://10.0.0.1:1/",
    "https://192.168.1.1:443/", "http://[::1]:65535/",
]  # fmt: skip


@pytest.mark.parametrize("url", REFUSED_WITHOUT_RESOLVING)
def test_refused_literals_and_tricks(url: str) -> None:
    fetcher = Fetcher(dataclasses.replace(Settings(), resolver=_no_resolution))
    with pytest.raises(DownloadError) as caught:
        fetcher.fetch(url)
    assert answer(caught.value).status == 400
    assert answer(caught.value).body == {"detail": {"error": "Invalid URL", "detail":
        "URLs pointing to private or local network addresses are not allowed"}}  # fmt: skip


NAMES = {
    "localhost": ["127.0.0.1", "::1"],
    "metadata.test": ["169.254.169.254"],
    "mixed6.test": ["2606:4700:4700::1111", "fd00::1"],
    "mixed4.test": ["8.8.8.8", "100.64.0.1"],
    "mapped.test": ["::ffff:10.0.0.1"],
    "nat64.test": ["64:ff9b::a00:1"],
    "zero.test": ["0.0.0.0"],
    "broadcast.test": ["255.255.255.255"],
    "multicast.test": ["ff02::1"],
}


def names_recorded_in(seen: list[str]) -> Resolver:
    """A resolver answering from NAMES that appends every host it is asked to `seen`."""

    def resolver(host: str, port: int) -> list[str]:
        seen.append(host)
        return NAMES[host]

    return resolver


@pytest.mark.parametrize(
    "url",
    ["http://LocalHost./", "http://LOCALHOST/", "http://localhost..:80/", "http://Metadata.Test./",
     "http://mixed6.test/", "http://mixed4.test:8443/", "http://MAPPED.test/", "http://nat64.test/",
     "http://zero.test/", "http://broadcast.test/", "http://multicast.test/",
     "http://example.com@localhost/", "https://user@metadata.test:443/"],
)  # fmt: skip
def test_refused_names(url: str) -> None:
    seen: list[str] = []
    fetcher = Fetcher(dataclasses.replace(Settings(), resolver=names_recorded_in(seen)))
    with pytest.raises(DownloadError) as caught:
        fetcher.fetch(url)
    assert answer(caught.value).body["detail"]["error"] == "Invalid URL"
    # The name is looked up lower-cased and without its trailing dots.
    assert seen and all(host == host.lower().rstrip(".") for host in seen)


def test_port_out_of_range_is_a_malformed_url() -> None:
    fetcher = Fetcher(dataclasses.replace(Settings(), resolver=_no_resolution))
    with pytest.raises(DownloadError) as caught:
        fetcher.fetch("http://example.com:99999/")
    assert answer(caught.value).body["detail"]["detail"] == "the URL is malformed"


# --- rebinding and redirects against a local origin on 127.0.0.1 -------------------------------


def test_rebinding_connects_to_the_vetted_address(origin_server: Origin) -> None:
    """The first answer is the allowlisted origin; every later answer points elsewhere (127.0.0.2,
    where nothing listens on that port, and the metadata address). The download succeeds from
    the origin, so the connection went to the address that was vetted, resolved once."""
    answers = iter([["127.0.0.1"], ["127.0.0.2"], ["169.254.169.254"]])
    calls: list[str] = []

    def rebinding(host: str, port: int) -> list[str]:
        calls.append(host)
        return next(answers)

    port = origin_server.port
    fetcher = Fetcher(dataclasses.replace(
        Settings(), resolver=rebinding, url_fetch_allowlist=frozenset({f"rebind.test:{port}"})))  # fmt: skip
    before = len(origin_server.host_headers)
    assert fetcher.fetch(f"http://rebind.test:{port}/image.png") == origin_server.png
    assert calls == ["rebind.test"]
    # The name, not the address, went out in the Host header.
    assert origin_server.host_headers[before:] == [f"rebind.test:{port}"]


def test_rebinding_to_private_on_the_redirect_hop(origin_server: Origin) -> None:
    """Each hop is resolved and vetted anew: a name that rebinds to a private address by the
    time of the redirect is refused, and the origin never sees the second request."""
    answers = {"first.test": ["127.0.0.1"], "second.test": ["10.0.0.1"]}
    port = origin_server.port
    fetcher = Fetcher(dataclasses.replace(
        Settings(), resolver=lambda host, _: answers[host],
        url_fetch_allowlist=frozenset({f"first.test:{port}"})))  # fmt: skip
    with pytest.raises(DownloadError) as caught:
        fetcher.fetch(f"http://first.test:{port}/redirect?to=http://second.test:{port}/image.png")
    assert answer(caught.value).body["detail"]["error"] == "Invalid URL"


def _origin_fetcher(origin: Origin, **changes: object) -> Fetcher:
    def resolver(host: str, port: int) -> list[str]:
        return {"internal.test": ["10.1.2.3"], "loopback.test": ["127.0.0.1"]}[host]

    settings = dataclasses.replace(
        Settings(), resolver=resolver,
        url_fetch_allowlist=frozenset({f"127.0.0.1:{origin.port}"}), **changes)  # type: ignore[arg-type]  # fmt: skip
    return Fetcher(settings)


@pytest.mark.parametrize(
    "target",
    ["http://127.0.0.2:{port}/image.png", "http://internal.test/image.png",
     "http://loopback.test:{port}/image.png", "http://[::1]:{port}/image.png",
     "http://169.254.169.254/latest/meta-data/", "http://0x7f000001:{port}/image.png",
     "http://127.0.0.1:{other}/image.png", "http://x@127.0.0.2:{port}/image.png"],
)  # fmt: skip
def test_redirect_to_private_refused(origin_server: Origin, target: str) -> None:
    target = target.format(port=origin_server.port, other=origin_server.port + 1)
    before = origin_server.hits.get("/image.png", 0)
    with pytest.raises(DownloadError) as caught:
        _origin_fetcher(origin_server).fetch(f"{origin_server.base}/redirect?to={target}")
    assert answer(caught.value).body["detail"]["error"] == "Invalid URL"
    assert origin_server.hits.get("/image.png", 0) == before


@pytest.mark.parametrize(
    "target",
    ["file:///etc/passwd", "ftp://example.com/a.png", "gopher://127.0.0.1:70/", "data:image/png;base64,AAAA",
     "javascript:alert(1)", "dict://127.0.0.1:11211/"],
)  # fmt: skip
def test_redirect_to_other_scheme_refused(origin_server: Origin, target: str) -> None:
    with pytest.raises(DownloadError) as caught:
        _origin_fetcher(origin_server).fetch(f"{origin_server.base}/redirect?to={target}")
    assert answer(caught.value).body == {"detail": {"error": "Invalid URL scheme",
                                            "detail": "URL must start with http:// or https://"}}  # fmt: skip


def _chain(hops: int) -> str:
    """A path that redirects `hops` times before reaching the image."""
    return "/redirect?to=" * hops + "/image.png"


def test_redirects_up_to_the_limit_followed(origin_server: Origin) -> None:
    fetcher = _origin_fetcher(origin_server, max_redirects=5)
    assert fetcher.fetch(origin_server.base + _chain(5)) == origin_server.png


@pytest.mark.parametrize("path", [_chain(6), _chain(40), "/loop"])
def test_too_many_redirects_and_loops(origin_server: Origin, path: str) -> None:
    before = origin_server.hits.get("/redirect", 0) + origin_server.hits.get("/loop", 0)
    with pytest.raises(DownloadError) as caught:
        _origin_fetcher(origin_server, max_redirects=5).fetch(origin_server.base + path)
    assert answer(caught.value).body["detail"] == {"error": "Failed to download image from URL",
        "detail": "too many redirects (more than 5)", "url": origin_server.base}  # fmt: skip
    after = origin_server.hits.get("/redirect", 0) + origin_server.hits.get("/loop", 0)
    assert after - before == 6  # the first request and five redirects, no more


# --- non-ASCII URLs: encoded as browsers do, vetted in their encoded form ---------------------


@pytest.mark.parametrize(
    "url",
    ["http://１２７.０.０.１/", "http://①②⑦.⓪.⓪.①/", "http://１２７。０。０。１/",
     "http://①⑥⑨.②⑤④.①⑥⑨.②⑤④/latest/", "http://０ｘ７ｆ０００００１/",
     "http://%31%32%37.0.0.1/", "http://%EF%BC%91%EF%BC%92%EF%BC%97.0.0.1/",
     "http://127.0.0.1%2E/"],
)  # fmt: skip
def test_non_ascii_spellings_of_private_literals_refused(url: str) -> None:
    """Hosts are percent-decoded, and UTS #46 maps fullwidth and circled digits and
    ideographic full stops to ASCII, as a browser does: the literal they spell is vetted
    (and refused) without any lookup."""
    fetcher = Fetcher(dataclasses.replace(Settings(), resolver=_no_resolution))
    with pytest.raises(DownloadError) as caught:
        fetcher.fetch(url)
    assert answer(caught.value).body["detail"]["error"] == "Invalid URL"


def test_non_ascii_spelling_of_a_private_name_is_resolved_encoded() -> None:
    seen: list[str] = []
    fetcher = Fetcher(dataclasses.replace(Settings(), resolver=names_recorded_in(seen)))
    with pytest.raises(DownloadError) as caught:
        fetcher.fetch("http://ｌｏｃａｌｈｏｓｔ/")
    with pytest.raises(DownloadError):
        fetcher.fetch("http://local%68ost%2E/")
    assert answer(caught.value).body["detail"]["error"] == "Invalid URL"
    assert seen == ["localhost", "localhost"]


@pytest.mark.parametrize("host", ["☃.test", "a..ü.test", "x" * 64 + "ü.test", "a%2Fb.test",
                                  "%FF.test", "a%00b.test"])
def test_host_idna_refuses(host: str) -> None:
    fetcher = Fetcher(dataclasses.replace(Settings(), resolver=_no_resolution))
    with pytest.raises(DownloadError) as caught:
        fetcher.fetch(f"http://{host}/a.png")
    assert answer(caught.value).status == 400
    assert answer(caught.value).body["detail"]["detail"] == "the URL's host is not a valid name"


def _idn_fetcher(origin: Origin, asked: list[str]) -> Fetcher:
    def resolver(host: str, port: int) -> list[str]:
        asked.append(host)
        return ["127.0.0.1"]

    allow = frozenset({f"xn--caf-dma.test:{origin.port}", f"127.0.0.1:{origin.port}"})
    return Fetcher(dataclasses.replace(Settings(), resolver=resolver, url_fetch_allowlist=allow))


@pytest.mark.parametrize(
    "path, sent",
    [
        ("/named/café.png?q=ü", "/named/caf%C3%A9.png?q=%C3%BC"),
        ("/named/a b.png?q=a b", "/named/a%20b.png?q=a%20b"),
        ('/named/"<>`{}^|.png', "/named/%22%3C%3E%60%7B%7D^|.png"),
        ("/named/x.png?q=\"<>'`{}", "/named/x.png?q=%22%3C%3E%27`{}"),
        ("/named/%41%e9%.png?a=%zz&b=/?:@", "/named/%41%e9%.png?a=%zz&b=/?:@"),
        ("/named/日本.png", "/named/%E6%97%A5%E6%9C%AC.png"),
        ("/named/😀.png#fragment", "/named/%F0%9F%98%80.png"),
    ],
)
def test_path_and_query_percent_encoded_as_browsers_do(
    origin_server: Origin, path: str, sent: str
) -> None:
    asked: list[str] = []
    fetcher = _idn_fetcher(origin_server, asked)
    assert fetcher.fetch(f"{origin_server.base}{path}") == origin_server.png
    assert origin_server.targets[-1] == sent
    assert asked == []  # a literal host: no lookup


def test_idn_host_resolved_and_sent_in_its_ascii_form(origin_server: Origin) -> None:
    asked: list[str] = []
    fetcher = _idn_fetcher(origin_server, asked)
    url = f"http://Café.test:{origin_server.port}/named/café.png?q=ü"
    assert fetcher.fetch(url) == origin_server.png
    assert asked == ["xn--caf-dma.test"]
    assert origin_server.host_headers[-1] == f"xn--caf-dma.test:{origin_server.port}"
    assert origin_server.targets[-1] == "/named/caf%C3%A9.png?q=%C3%BC"


def test_idn_host_outside_the_allowlist_is_vetted_encoded(origin_server: Origin) -> None:
    """The allowlist lets xn--caf-dma.test reach loopback; cafés.test encodes to a name of
    its own, which is not listed, and its private answer is refused."""
    asked: list[str] = []
    fetcher = _idn_fetcher(origin_server, asked)
    with pytest.raises(DownloadError) as caught:
        fetcher.fetch(f"http://cafe\u0301s.test:{origin_server.port}/named/x.png")
    assert answer(caught.value).body["detail"]["error"] == "Invalid URL"
    assert asked == ["xn--cafs-dpa.test"]


@pytest.mark.parametrize(
    "route, sent",
    [("/redirect-utf8", "/named/caf%C3%A9.png?q=%C3%BC"),
     ("/redirect-latin1", "/named/caf%E9.png?q=%C3%BC")],
)  # fmt: skip
def test_redirect_location_with_a_non_ascii_path(origin_server: Origin, route: str, sent: str) -> None:
    """A Location's bytes are read as UTF-8, as browsers read them; bytes that are not UTF-8
    are percent-encoded as they came."""
    fetcher = _idn_fetcher(origin_server, [])
    assert fetcher.fetch(origin_server.base + route) == origin_server.png
    assert origin_server.targets[-1] == sent


def test_redirect_to_a_non_ascii_private_spelling_refused(origin_server: Origin) -> None:
    before = origin_server.hits.get("/image.png", 0)
    target = f"http://１２７.０.０.２:{origin_server.port}/image.png"
    with pytest.raises(DownloadError) as caught:
        _idn_fetcher(origin_server, []).fetch(f"{origin_server.base}/redirect?to={target}")
    assert answer(caught.value).body["detail"]["error"] == "Invalid URL"
    assert origin_server.hits.get("/image.png", 0) == before
