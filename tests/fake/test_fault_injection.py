"""Each fault kind of FakeFlattr.inject_fault, seen from a raw HTTP client."""

from __future__ import annotations

import http.client
import time

import defusedxml
import defusedxml.ElementTree as SafeET
import pytest

from flattr.testing import FAULT_KINDS, FakeFlattr

from .kit import Reply, Signer, connect, rest

ME = "/rest/0.0.1/user/me"
REGISTER = "/rest/0.0.1/thing/register"
DATA = (
    "<thing><url>http://a.example/fault</url><title>Faulty</title><description>Still here."
    "</description><category>text</category><language>en_GB</language></thing>"
)


@pytest.fixture
def api(fake: FakeFlattr) -> Signer:
    return rest(fake, fake.issue_access_token(scopes=("read", "publish")))


def test_status_with_retry_after_for_the_next_n(fake: FakeFlattr, api: Signer) -> None:
    fake.inject_fault(ME, "status", times=2, status=503, retry_after=2)
    for _ in range(2):
        reply = api.get(ME)
        assert reply.status == 503
        assert reply.header("Retry-After") == "2"
        assert reply.xml.findtext("error/code") == "503"
    assert api.get(ME).status == 200
    assert [r.status for r in fake.requests_to(ME)] == [503, 503, 200]


def test_every_nth_request_forever(fake: FakeFlattr, api: Signer) -> None:
    fake.inject_fault("/rest/", "status", every=3, status=500)
    statuses = [api.get(ME).status for _ in range(7)]
    assert statuses == [200, 200, 500, 200, 200, 500, 200]
    fake.clear_faults()
    assert api.get(ME).status == 200


def test_prefix_must_match(fake: FakeFlattr, api: Signer) -> None:
    fake.inject_fault("/rest/0.0.1/feed/", "status")
    assert api.get(ME).status == 200
    assert api.get("/rest/0.0.1/feed/categories").status == 503


def test_stall(fake: FakeFlattr, api: Signer) -> None:
    fake.inject_fault(ME, "stall", seconds=0.15)
    started = time.monotonic()
    assert api.get(ME).status == 200
    assert time.monotonic() - started >= 0.15


def test_stall_beyond_the_client_timeout(fake: FakeFlattr, api: Signer) -> None:
    fake.inject_fault(ME, "stall", seconds=0.5)
    conn = connect(fake, timeout=0.1)
    try:
        with pytest.raises(TimeoutError):
            api.get(ME, conn=conn)
    finally:
        conn.close()


def _register_fails(api: Signer) -> None:
    with pytest.raises((http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError)):
        api.call("POST", REGISTER, form={"data": DATA})


def test_drop_before_read(fake: FakeFlattr, api: Signer) -> None:
    fake.inject_fault(REGISTER, "drop_before_read")
    _register_fails(api)
    assert fake.thing_by_url("http://a.example/fault") is None
    (seen,) = fake.requests_to(REGISTER, "POST")
    assert seen.status is None
    assert seen.body == b""


def test_drop_after_read(fake: FakeFlattr, api: Signer) -> None:
    fake.inject_fault(REGISTER, "drop_after_read")
    _register_fails(api)
    assert fake.thing_by_url("http://a.example/fault") is None
    (seen,) = fake.requests_to(REGISTER, "POST")
    assert seen.status is None
    assert b"data=" in seen.body


def test_drop_after_processing_registers_the_thing(fake: FakeFlattr, api: Signer) -> None:
    fake.inject_fault(REGISTER, "drop_after_processing")
    _register_fails(api)
    assert fake.thing_by_url("http://a.example/fault") is not None
    assert len(fake.requests_to(REGISTER, method="post")) == 1


def test_truncate(fake: FakeFlattr, api: Signer) -> None:
    fake.inject_fault(ME, "truncate")
    with pytest.raises(http.client.IncompleteRead):
        api.get(ME)


def test_oversize(fake: FakeFlattr, api: Signer) -> None:
    fake.inject_fault(ME, "oversize", size=300_000)
    reply = api.get(ME)
    assert reply.status == 200
    assert len(reply.body) == 300_000
    assert reply.header("Content-Length") == "300000"
    assert reply.xml.findtext("version") == "0.0.1"


def test_oversize_default_is_above_8_mib(fake: FakeFlattr, api: Signer) -> None:
    fake.inject_fault(ME, "oversize")
    conn = connect(fake)
    try:
        conn.request("GET", ME)
        response = conn.getresponse()
        assert int(response.getheader("Content-Length") or 0) > 8 * 1024 * 1024
        assert response.read(100).startswith(b"<?xml")
    finally:
        conn.close()


def test_html(fake: FakeFlattr, api: Signer) -> None:
    fake.inject_fault(ME, "html")
    reply = api.get(ME)
    assert reply.status == 200
    assert reply.header("Content-Type") == "text/html; charset=utf-8"
    assert b"Bad Gateway" in reply.body
    fake.inject_fault(ME, "html", status=502)
    assert api.get(ME).status == 502


@pytest.mark.parametrize(
    ("kind", "error"),
    [
        ("malformed_xml", SafeET.ParseError),
        ("xml_bomb", defusedxml.DefusedXmlException),
        ("external_entity", defusedxml.DefusedXmlException),
    ],
)
def test_bad_xml(fake: FakeFlattr, api: Signer, kind: str, error: type[Exception]) -> None:
    fake.inject_fault(ME, kind)
    reply = api.get(ME)
    assert reply.status == 200
    assert reply.header("Content-Type") == "text/xml; charset=utf-8"
    with pytest.raises(error):
        SafeET.fromstring(reply.body, forbid_dtd=False)


def test_xml_bomb_is_a_real_billion_laughs(fake: FakeFlattr, api: Signer) -> None:
    fake.inject_fault(ME, "xml_bomb")
    body = api.get(ME).body
    assert b"<!DOCTYPE" in body
    assert body.count(b"<!ENTITY") == 10
    assert len(body) < 2000


def test_invalid_utf8(fake: FakeFlattr, api: Signer) -> None:
    fake.inject_fault(ME, "invalid_utf8")
    body = api.get(ME).body
    with pytest.raises(UnicodeDecodeError):
        body.decode("utf-8")


def test_wrong_content_type(fake: FakeFlattr, api: Signer) -> None:
    fake.inject_fault(ME, "wrong_content_type")
    reply = api.get(ME)
    assert reply.header("Content-Type") == "text/plain; charset=utf-8"
    assert (reply.xml.findtext("user/username") or "").strip() == "alice"


@pytest.mark.parametrize(("status", "expected"), [(None, 302), (307, 307)])
def test_redirect(fake: FakeFlattr, api: Signer, status: int | None, expected: int) -> None:
    fake.inject_fault(REGISTER, "redirect", status=status)
    reply: Reply = api.call("POST", REGISTER, form={"data": DATA})
    assert reply.status == expected
    assert reply.header("Location") == f"{fake.base_url}/redirected{REGISTER}"
    assert fake.thing_by_url("http://a.example/fault") is None


def test_unknown_kind_and_bad_counts(fake: FakeFlattr) -> None:
    with pytest.raises(ValueError, match="unknown fault kind"):
        fake.inject_fault(ME, "gremlins")
    with pytest.raises(ValueError, match="every"):
        fake.inject_fault(ME, "status", every=0)
    with pytest.raises(ValueError, match="times"):
        fake.inject_fault(ME, "status", times=0)
    assert len(FAULT_KINDS) == 14
