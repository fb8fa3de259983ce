"""A feed or a page cannot send collection to a private address the operator did not name (SSRF): redirects
and article links to loopback, private or link-local addresses are refused unless the sources file names
that host and port. Two real loopback servers: the named outlet, and an "internal" service nobody named."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from collectapp import health, make_app, page
from loopserver import LoopServer

from mediawatch.addresses import PrivateAccess, is_private_ip, is_private_name
from mediawatch.cli.probing import probe
from mediawatch.pipeline import run_collect, select_sources

pytestmark = pytest.mark.usefixtures("direct_http")  # no operator proxy may carry the requests elsewhere

SECRET = "<html><head><title>INTERNAL ADMIN</title></head><body><article><h1>INTERNAL ADMIN</h1><p>db_password=" \
         "hunter2 and the rest of an internal page that must never be stored or published.</p></article></body></html>"
RSS = """<?xml version="1.0"?><rss version="2.0"><channel><title>Internal</title><item><title>secret entry</title>
<link>https://intranet.example/1</link></item></channel></rss>"""
STORY = "/news/2025/11/03/kazakh-diaspora-festival-story"
ARTICLE = """<!doctype html><html lang="en"><head><title>Nauryz in Istanbul</title></head><body><article>
<h1>Nauryz in Istanbul</h1><p>The Kazakh community of Zeytinburnu celebrated Nauryz with a concert and a feast
for families, students and elders.</p><p>Organisers thanked the guests and promised to meet again.</p>
</article></body></html>"""



@pytest.fixture
def internal(loopserver: LoopServer) -> Iterator[LoopServer]:
    with LoopServer() as server:
        server.serve("/admin", SECRET, content_type="text/html")
        server.serve("/feed.xml", RSS, content_type="application/rss+xml")
        yield server


def test_a_feed_that_redirects_to_an_unnamed_private_address_fails_and_it_is_never_requested(
    tmp_path: Path, loopserver: LoopServer, internal: LoopServer
) -> None:
    loopserver.redirect("/feed.xml", internal.url("/feed.xml"))
    app = make_app(tmp_path, [f"  - {{id: outlet, kind: rss, url: '{loopserver.url('/feed.xml')}'}}\n"])
    report = run_collect(app, select_sources(app, all_sources=True))
    assert report.sources_failed == 1 and report.items_new == 0
    assert health(app)["outlet"].last_error == (  # type: ignore[attr-defined]
        f"refused: 127.0.0.1 is a private address the sources file does not name "
        f"(redirect to {internal.url('/feed.xml')})"
    )
    assert internal.requests == []


def test_an_article_link_or_redirect_to_an_unnamed_private_address_is_refused(
    tmp_path: Path, loopserver: LoopServer, internal: LoopServer
) -> None:
    """A listing (with a selector, which takes links to any host) links one article on another host and one
    that redirects there: neither is requested; the good article is stored; nothing internal is."""
    loopserver.serve(STORY, ARTICLE, content_type="text/html")
    loopserver.redirect(STORY + "-2", internal.url("/admin"))
    links = "".join(f'<li class="n"><a href="{u}">Story {n}</a></li>'
                    for n, u in enumerate([internal.url("/admin"), STORY + "-2", STORY]))
    loopserver.serve("/", f"<html><body><ul>{links}</ul></body></html>", content_type="text/html")
    app = make_app(tmp_path, [page("portal", loopserver.url("/")).replace("}", ", selector: 'li.n a'}")])
    report = run_collect(app, select_sources(app, all_sources=True))
    assert report.items_new == 1 and report.sources_ok == 1
    assert "refused: 127.0.0.1 is a private address the sources file does not name" in report.warnings["portal"]
    assert internal.requests == []
    assert [r["title"] for r in app.store.export_rows()] == ["Nauryz in Istanbul"]


def test_a_second_named_host_is_reached(tmp_path: Path, loopserver: LoopServer, internal: LoopServer) -> None:
    """The same redirect is followed when the sources file names the internal host (an operator's choice)."""
    loopserver.redirect("/feed.xml", internal.url("/feed.xml"))
    app = make_app(tmp_path, [f"  - {{id: outlet, kind: rss, url: '{loopserver.url('/feed.xml')}'}}\n",
                              f"  - {{id: intranet, kind: rss, url: '{internal.url('/feed.xml')}', enabled: false}}\n"])
    report = run_collect(app, select_sources(app, ["outlet"]))
    assert report.sources_ok == 1 and report.items_new == 1


def test_a_name_that_resolves_to_a_private_address_is_refused_once_connected(
    tmp_path: Path, loopserver: LoopServer, internal: LoopServer
) -> None:
    """A DNS name is only known to be private once connected: the connection's peer address is checked
    before anything of the response is read."""
    name = socket.gethostname()
    try:
        resolved = socket.gethostbyname(name)
    except OSError:
        pytest.skip(f"this machine's host name {name!r} does not resolve")
    if resolved != "127.0.0.1" or is_private_name(name):
        pytest.skip(f"this machine's host name {name!r} does not resolve to 127.0.0.1 (it is {resolved})")
    target = internal.url("/admin").replace("127.0.0.1", name)
    loopserver.redirect("/feed.xml", target)
    app = make_app(tmp_path, [f"  - {{id: outlet, kind: rss, url: '{loopserver.url('/feed.xml')}'}}\n"])
    report = run_collect(app, select_sources(app, all_sources=True))
    assert report.sources_failed == 1
    assert health(app)["outlet"].last_error == (  # type: ignore[attr-defined]
        f"refused: {name} resolves to a private address (127.0.0.1) the sources file does not name "
        f"(redirect to {target})"
    )


@pytest.mark.usefixtures("direct_http")
def test_probe_reaches_the_address_given_but_not_a_private_one_it_redirects_to(
    loopserver: LoopServer, internal: LoopServer
) -> None:
    loopserver.redirect("/go", internal.url("/admin"))
    result = CliRunner().invoke(probe, [loopserver.url("/go")], catch_exceptions=False)
    assert result.exit_code == 1
    assert "refused: 127.0.0.1 is a private address the sources file does not name" in result.stderr
    assert internal.requests == []
    direct = CliRunner().invoke(probe, [internal.url("/feed.xml")], catch_exceptions=False)
    assert direct.exit_code == 0 and "title:     Internal" in direct.stdout, direct.output


@pytest.mark.parametrize(("address", "private"), [
    ("127.0.0.1", True), ("10.1.2.3", True), ("172.16.0.1", True), ("192.168.1.1", True),
    ("169.254.169.254", True), ("100.64.0.1", True), ("0.0.0.0", True), ("::1", True), ("[::1]", True),
    ("fe80::1%eth0", True), ("fd00::1", True), ("::ffff:127.0.0.1", True), ("::ffff:8.8.8.8", False),
    ("8.8.8.8", False), ("2a00:1450:4001::1", False), ("example.org", None),
])
def test_which_addresses_are_private(address: str, private: bool | None) -> None:
    assert is_private_ip(address) is private


def test_named_hosts_are_compared_by_host_and_port() -> None:
    access = PrivateAccess.from_urls(["http://127.0.0.1:8080/feed", "https://LocalHost./x", None, "http://[::1]/"])
    assert access.refusal("127.0.0.1", 8080, "http") is None
    assert access.refusal("127.0.0.1", 6379, "http") is not None  # another port of the same machine
    assert access.refusal("localhost", None, "https") is None  # 443 by default
    assert access.refusal("localhost", None, "http") is not None  # 80
    assert access.refusal("::1", None, "http") is None
    assert access.refusal("kazinform.kz", None, "https") is None  # a public name, before connecting
    assert access.refusal("kazinform.kz", None, "https", peer="93.184.216.34") is None
    assert access.refusal("kazinform.kz", None, "https", peer="10.0.0.7") is not None


# The numeric forms the C library's inet_aton (and so getaddrinfo) reads as IPv4 addresses: a client connects to
# 127.0.0.1 for each of them, so each must be refused before connecting, as the dotted quad is.
LOOPBACK_FORMS = ["2130706433", "127.1", "0x7f000001", "0177.0.0.1", "0x7F.0.0.1", "127.0.1", "017700000001",
                  "0x7f.1"]


@pytest.mark.parametrize("form", LOOPBACK_FORMS)
def test_numeric_ipv4_forms_are_addresses(form: str) -> None:
    assert str(socket.inet_aton(form)) == str(socket.inet_aton("127.0.0.1"))  # what the C library reads
    assert is_private_ip(form) is True and is_private_name(form)
    assert is_private_name(form + ".")  # a trailing dot names the same host


@pytest.mark.parametrize(("text", "address"), [
    ("8.8.8.8", "8.8.8.8"), ("134744072", "8.8.8.8"), ("0x08080808", "8.8.8.8"), ("8.0x80808", "8.8.8.8"),
    ("1.2.3", "1.2.0.3"), ("0", "0.0.0.0"), ("00", "0.0.0.0"), ("4294967295", "255.255.255.255"),
    ("4294967296", None), ("256.1", None), ("1.16777216", None), ("08.1", None), ("0x", None), ("0x.1", None),
    ("1e1", None), ("127..1", None), (".127.1", None), ("+1", None), ("1_0", None), ("0xg", None),
    ("1.2.3.4.5", None), ("example.org", None), ("", None), ("0" * 300 + "127.1", "87.0.0.1"),
    ("0x" + "0" * 40 + "7f000001", "127.0.0.1"), ("1" + "0" * 5000, None), (str(2**64 + 2130706433), None),
])
def test_numeric_forms_are_read_as_inet_aton_reads_them(text: str, address: str | None) -> None:
    from mediawatch.addresses import numeric_ipv4

    got = numeric_ipv4(text)
    assert (None if got is None else str(got)) == address
    try:
        libc = socket.inet_ntoa(socket.inet_aton(text)) if text else None
    except OSError:
        libc = None
    assert libc == address, "the C library reads it otherwise"


def test_article_links_and_redirects_in_other_ipv4_forms_never_reach_an_unnamed_port(
    tmp_path: Path, loopserver: LoopServer, internal: LoopServer
) -> None:
    """A listing on the named 127.0.0.1 port links the internal port as 2130706433, 127.1, 0x7f000001 and
    0177.0.0.1, and an article redirects there as 127.1: nothing reaches the internal server (robots.txt
    included), and the source reports the refusals; a feed redirected there the same way fails."""
    port = internal.port
    targets = [f"http://{form}:{port}/admin/{n}?x=1" for n, form in enumerate(LOOPBACK_FORMS)]
    loopserver.serve(STORY, ARTICLE, content_type="text/html")
    loopserver.redirect(STORY + "-2", f"http://127.1:{port}/admin?x=1")
    links = "".join(f'<li class="n"><a href="{u}">Story {n}</a></li>'
                    for n, u in enumerate([*targets, STORY + "-2", STORY]))
    loopserver.serve("/", f"<html><body><ul>{links}</ul></body></html>", content_type="text/html")
    loopserver.redirect("/feed.xml", f"http://2130706433:{port}/feed.xml")
    app = make_app(tmp_path, [page("portal", loopserver.url("/")).replace("}", ", selector: 'li.n a'}"),
                              f"  - {{id: outlet, kind: rss, url: '{loopserver.url('/feed.xml')}'}}\n"])
    report = run_collect(app, select_sources(app, all_sources=True))
    assert internal.requests == []
    assert report.items_new == 1 and [r["title"] for r in app.store.export_rows()] == ["Nauryz in Istanbul"]
    assert "refused: 2130706433 (127.0.0.1) is a private address the sources file does not name" in (
        report.warnings["portal"])
    assert health(app)["outlet"].last_error == (  # type: ignore[attr-defined]
        f"refused: 2130706433 (127.0.0.1) is a private address the sources file does not name "
        f"(redirect to http://2130706433:{port}/feed.xml)"
    )


def test_a_named_address_is_named_in_any_of_its_forms() -> None:
    access = PrivateAccess.from_urls(["http://127.0.0.1:8080/feed", "http://[::1]:8081/"])
    assert access.refusal("2130706433", 8080, "http") is None  # the same address and port as named
    assert access.refusal("127.1", 8081, "http") is not None
    assert access.refusal("0:0::1", 8081, "http") is None
