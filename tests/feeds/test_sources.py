"""Where a feed comes from: URLs on a loopback server, files, and feed text."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

import flattr
from flattr.testing import FakeFlattr

from .kit import FeedServer, feed_file

BLOG = feed_file("blog.rss").read_bytes()
BLOG_URLS = {
    "https://birds.example.org/2010/01/welcome",
    "https://birds.example.org/2010/03/robins",
    "https://birds.example.org/2010/02/voegel",
    "http://birds.example.org/2010/04/owls",
}


def test_feed_url(fake: FakeFlattr, client: flattr.FlattrClient, feed_server: FeedServer) -> None:
    url = feed_server.serve("/feed.xml", BLOG)

    report = flattr.publish_feed(client, url)

    assert {r.url for r in report.registered} == BLOG_URLS
    assert report.source == url
    [(path, headers)] = feed_server.hits
    assert path == "/feed.xml"
    assert headers["User-Agent"].startswith("flattr-python/")
    assert headers["Accept-Encoding"] == "identity"


def test_query_of_a_private_feed_url_stays_out_of_the_report(
    client: flattr.FlattrClient, feed_server: FeedServer
) -> None:
    url = feed_server.serve("/private.xml?token=s3cret-feed-key", BLOG)

    report = flattr.publish_feed(client, url, dry_run=True)

    assert report.source == feed_server.url("/private.xml")
    assert "s3cret" not in str(report)
    assert "s3cret" not in report.to_json()


def test_relative_links_resolve_against_the_feed_url_when_the_feed_has_no_link(
    client: flattr.FlattrClient, feed_server: FeedServer
) -> None:
    feed = (
        b'<rss version="2.0"><channel><title>No link</title><language>en</language>'
        b"<item><title>Relative one</title><link>posts/1</link></item>"
        b"</channel></rss>"
    )
    url = feed_server.serve("/blog/feed.xml", feed)

    report = flattr.publish_feed(client, url)

    assert [r.url for r in report.registered] == [feed_server.url("/blog/posts/1")]


def test_redirects_are_followed(client: flattr.FlattrClient, feed_server: FeedServer) -> None:
    feed_server.serve("/feed.xml", BLOG)
    url = feed_server.serve("/old-feed", b"", status=301, headers={"Location": "/feed.xml"})

    report = flattr.publish_feed(client, url, dry_run=True)

    assert {r.url for r in report.registered} == BLOG_URLS
    assert [path for path, _ in feed_server.hits] == ["/old-feed", "/feed.xml"]


def test_redirect_loops_end(client: flattr.FlattrClient, feed_server: FeedServer) -> None:
    url = feed_server.serve("/loop", b"", status=302, headers={"Location": "/loop"})

    with pytest.raises(flattr.TransportError):
        flattr.publish_feed(client, url)
    assert len(feed_server.hits) <= 6


def test_redirect_to_a_file_is_refused(
    client: flattr.FlattrClient, feed_server: FeedServer
) -> None:
    url = feed_server.serve("/evil", b"", status=302, headers={"Location": "file:///etc/passwd"})

    with pytest.raises(flattr.TransportError):
        flattr.publish_feed(client, url)


def test_redirect_from_https_down_to_http_is_refused(
    client: flattr.FlattrClient,
    feed_server: FeedServer,
    tls_feed_server: tuple[FeedServer, str],
) -> None:
    secure, ca_bundle = tls_feed_server
    plain = feed_server.serve("/feed.xml", BLOG)
    url = secure.serve("/feed.xml", b"", status=302, headers={"Location": plain})

    with pytest.raises(flattr.TransportError, match="refused a redirect from https:// to http://"):
        flattr.publish_feed(client, url, ca_certs=ca_bundle)
    assert feed_server.hits == []


def test_untrusted_certificate_is_a_tls_error(
    fake: FakeFlattr, client: flattr.FlattrClient, tls_feed_server: tuple[FeedServer, str]
) -> None:
    secure, _ = tls_feed_server
    url = secure.serve("/feed.xml", BLOG)

    with pytest.raises(flattr.TLSError, match="ca_certs"):
        flattr.publish_feed(client, url)
    assert fake.requests == []


def test_https_feed_with_its_ca(
    client: flattr.FlattrClient, tls_feed_server: tuple[FeedServer, str]
) -> None:
    secure, ca_bundle = tls_feed_server
    url = secure.serve("/feed.xml", BLOG)

    report = flattr.publish_feed(client, url, ca_certs=ca_bundle)

    assert {r.url for r in report.registered} == BLOG_URLS


def test_http_error_status(client: flattr.FlattrClient, feed_server: FeedServer) -> None:
    with pytest.raises(flattr.TransportError, match="answered 404") as info:
        flattr.publish_feed(client, feed_server.url("/missing.xml"))
    assert not isinstance(info.value, flattr.UncertainResultError)


def test_unreachable_server(client: flattr.FlattrClient) -> None:
    with FeedServer() as server:
        url = server.url("/feed.xml")
    with pytest.raises(flattr.TransportError, match="could not fetch"):
        flattr.publish_feed(client, url, fetch_timeout=5)


def test_slow_server_times_out(client: flattr.FlattrClient, feed_server: FeedServer) -> None:
    url = feed_server.serve("/slow.xml", BLOG, delay=2.0)

    with pytest.raises(flattr.TransportError, match="timed out"):
        flattr.publish_feed(client, url, fetch_timeout=0.3)


@pytest.mark.parametrize("omit_length", [False, True])
def test_oversized_feed_is_refused(
    client: flattr.FlattrClient, feed_server: FeedServer, omit_length: bool
) -> None:
    url = feed_server.serve("/big.xml", BLOG, omit_length=omit_length)

    with pytest.raises(flattr.ResponseTooLargeError, match="max_feed_bytes"):
        flattr.publish_feed(client, url, max_feed_bytes=1000)


def test_unasked_compression_is_refused(
    client: flattr.FlattrClient, feed_server: FeedServer
) -> None:
    url = feed_server.serve("/gz.xml", b"\x1f\x8b\x08\x00", headers={"Content-Encoding": "gzip"})

    with pytest.raises(flattr.TransportError, match="gzip"):
        flattr.publish_feed(client, url)


def test_html_page_is_not_a_feed(
    fake: FakeFlattr, client: flattr.FlattrClient, feed_server: FeedServer
) -> None:
    page = b"<!DOCTYPE html><html><head><title>Blog</title></head><body><p>Hi</p></body></html>"
    url = feed_server.serve("/", page, headers={"Content-Type": "text/html"})

    with pytest.raises(flattr.ValidationError, match="is not a readable RSS or Atom feed"):
        flattr.publish_feed(client, url)
    assert fake.requests == []


def test_feed_text_as_str_is_read_as_unicode(fake: FakeFlattr, client: flattr.FlattrClient) -> None:
    # The declaration says Latin-1, but a str is already decoded: it must not be decoded twice.
    feed = (
        '<?xml version="1.0" encoding="iso-8859-1"?><rss version="2.0"><channel>'
        "<title>Äpfel</title><language>de</language>"
        "<item><title>Grüße aus Köln</title><link>https://koeln.example.de/1</link></item>"
        "</channel></rss>"
    )

    report = flattr.publish_feed(client, feed)

    assert report.source == "feed text"
    assert [t.title for t in fake.things] == ["Grüße aus Köln"]


def test_feed_bytes_follow_their_declared_encoding(
    fake: FakeFlattr, client: flattr.FlattrClient
) -> None:
    feed = (
        '<?xml version="1.0" encoding="iso-8859-1"?><rss version="2.0"><channel>'
        "<title>Äpfel</title><language>de</language>"
        "<item><title>Grüße aus Köln</title><link>https://koeln.example.de/1</link></item>"
        "</channel></rss>"
    ).encode("iso-8859-1")

    flattr.publish_feed(client, feed)

    assert [t.title for t in fake.things] == ["Grüße aus Köln"]


def test_empty_feed_publishes_nothing(fake: FakeFlattr, client: flattr.FlattrClient) -> None:
    report = flattr.publish_feed(
        client, '<rss version="2.0"><channel><title>Empty</title></channel></rss>'
    )

    assert report.total == 0
    assert report.summary() == "0 registered, 0 skipped, 0 failed of 0 entries"
    assert fake.requests == []


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("ftp://example.org/feed.xml", "only http:// and https://"),
        ("file:///etc/passwd", "only http:// and https://"),
        ("https://user:pw@example.org/feed.xml", "user name or password"),
        ("no-such-feed.xml", "neither an http(s) URL, an existing file nor XML"),
        (42, "must be a URL, a path or feed text"),
    ],
)
def test_bad_sources(
    fake: FakeFlattr, client: flattr.FlattrClient, source: object, message: str
) -> None:
    with pytest.raises(flattr.ValidationError, match=re.escape(message)) as info:
        flattr.publish_feed(client, source)  # type: ignore[arg-type]
    assert info.value.field == "source"
    assert "pw" not in str(info.value)
    assert fake.requests == []


def test_directory_and_oversized_file(client: flattr.FlattrClient, tmp_path: Path) -> None:
    with pytest.raises(flattr.ValidationError, match="cannot read"):
        flattr.publish_feed(client, tmp_path)
    big = tmp_path / "big.rss"
    big.write_bytes(BLOG)
    with pytest.raises(flattr.ResponseTooLargeError):
        flattr.publish_feed(client, big, max_feed_bytes=100)


def test_import_flattr_does_not_import_feedparser() -> None:
    code = "import sys, flattr; print('feedparser' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == "False"
