"""The server itself: keep-alive, concurrency, TLS, recording, secrets, public API."""

from __future__ import annotations

import logging
import os
import socket
import ssl
import threading
import time
from pathlib import Path

import httplib2
import pytest
from oauthlib.oauth1 import Client

import flattr.testing
from flattr.testing import FakeFlattr

from .kit import FORM, Signer, connect, request_token, rest, send

ME = "/rest/0.0.1/user/me"


def test_keep_alive_reuses_one_connection(fake: FakeFlattr) -> None:
    api = rest(fake, fake.issue_access_token())
    conn = connect(fake)
    try:
        for _ in range(5):
            reply = api.get(ME, conn=conn)
            assert reply.status == 200
            assert reply.header("Content-Length") == str(len(reply.body))
        assert send(fake, "GET", "/nowhere", conn=conn).status == 404
    finally:
        conn.close()
    assert fake.connections_opened == 1
    assert {r.connection_id for r in fake.requests} == {1}


def test_close_idle_connections(fake: FakeFlattr) -> None:
    api = rest(fake, fake.issue_access_token())
    conn = connect(fake)
    try:
        assert api.get(ME, conn=conn).status == 200
        deadline = time.monotonic() + 2
        closed = 0
        while not closed and time.monotonic() < deadline:
            closed = fake.close_idle_connections()
        assert closed == 1
        with pytest.raises((ConnectionError, OSError)):
            api.get(ME, conn=conn)
    finally:
        conn.close()
    assert len(fake.requests_to(ME)) == 1


def test_serves_eight_clients_concurrently() -> None:
    with FakeFlattr(latency=0.2) as fake:
        signers = []
        for i in range(8):
            user = fake.add_user(f"user{i}")
            signers.append((user.username, rest(fake, fake.issue_access_token(user))))
        results: dict[str, bytes] = {}

        def work(name: str, signer: Signer) -> None:
            results[name] = signer.get(ME).body

        threads = [threading.Thread(target=work, args=pair) for pair in signers]
        started = time.monotonic()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.monotonic() - started
    assert elapsed < 0.2 * 8 / 2  # well under the serial time
    for name, body in results.items():
        assert f"<username>\n            {name}\n".encode() in body


def test_latency_delays_every_answer() -> None:
    with FakeFlattr(latency=0.15) as fake:
        started = time.monotonic()
        send(fake, "GET", "/nowhere")
        assert time.monotonic() - started >= 0.15


def test_fixed_port() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with FakeFlattr(port=port) as fake:
        assert fake.base_url == f"http://127.0.0.1:{port}"
        assert fake.port == port


def test_tls_needs_the_test_ca() -> None:
    with FakeFlattr(tls=True) as fake:
        assert fake.base_url.startswith("https://127.0.0.1:")
        assert fake.ca_bundle is not None
        bundle = Path(fake.ca_bundle)
        assert bundle.read_text().startswith("-----BEGIN CERTIFICATE-----")
        token = fake.issue_access_token()
        client = Client(fake.consumer.key, fake.consumer.secret, token.key, token.secret)
        for host in ("127.0.0.1", "localhost"):
            url = f"https://{host}:{fake.port}{ME}"
            strict = httplib2.Http(timeout=5, proxy_info=None)
            try:
                with pytest.raises(ssl.SSLError):
                    strict.request(url, "GET", headers=client.sign(url)[1])
            finally:
                strict.close()
            trusting = httplib2.Http(timeout=5, proxy_info=None, ca_certs=fake.ca_bundle)
            try:
                response, body = trusting.request(url, "GET", headers=client.sign(url)[1])
            finally:
                trusting.close()
            assert response.status == 200
            assert b"alice" in body
        assert fake.requests_to(ME)[-1].status == 200
        assert fake.connections_opened == 4  # failed handshakes count too
    assert not bundle.exists()


def test_tls_consent_flow(fake_flattr_tls: FakeFlattr) -> None:
    fake = fake_flattr_tls
    token = request_token(fake)
    result = fake.consent(f"{fake.base_url}/oauth/authenticate?oauth_token={token.key}")
    assert result.verifier is not None
    reply = Signer(fake, fake.consumer, token).call(
        "POST", "/oauth/access_token", verifier=result.verifier
    )
    assert reply.status == 200


def test_plugin_fixture(fake_flattr: FakeFlattr) -> None:
    assert send(fake_flattr, "GET", "/nowhere").status == 404


def test_recording(fake: FakeFlattr) -> None:
    token = fake.issue_access_token(scopes=("read",))
    api = rest(fake, token)
    api.get(ME + "?a=1&a=2&b=", signature_type="QUERY")
    api.call("POST", "/rest/0.0.1/thing/register", form={"data": "<thing/>"})
    first, second = fake.requests
    assert first.method == "GET"
    assert first.path == ME
    assert first.query["a"] == ["1", "2"]
    assert first.query["b"] == [""]
    assert first.oauth_params["oauth_token"] == token.key
    assert "oauth_signature" in first.oauth_params
    assert first.status == 200
    assert second.method == "POST"
    assert second.header("content-type") == FORM
    assert second.body.startswith(b"data=")
    assert second.oauth_params["oauth_consumer_key"] == fake.consumer.key
    assert second.status == 403  # publish scope missing
    assert fake.requests_to("/rest/", "POST") == [second]
    fake.clear_requests()
    assert fake.requests == []


def test_post_without_length_and_too_big(fake: FakeFlattr) -> None:
    with socket.create_connection(("127.0.0.1", fake.port), timeout=5) as sock:
        sock.sendall(b"POST /rest/0.0.1/thing/register HTTP/1.1\r\nHost: x\r\n\r\n")
        assert sock.recv(100).startswith(b"HTTP/1.1 411")
    headers = {"Content-Type": FORM, "Content-Length": str(2 * 1024 * 1024)}
    conn = connect(fake)
    try:
        conn.putrequest("POST", "/rest/0.0.1/thing/register")
        for name, value in headers.items():
            conn.putheader(name, value)
        conn.endheaders()
        assert conn.getresponse().status == 413
    finally:
        conn.close()


def test_secrets_stay_out_of_reprs_and_logs(
    fake: FakeFlattr, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="flattr.testing")
    token = request_token(fake)
    result = fake.consent(f"{fake.base_url}/oauth/authenticate?oauth_token={token.key}")
    assert result.verifier is not None
    reply = Signer(fake, fake.consumer, token).call(
        "GET", "/oauth/access_token", verifier=result.verifier, signature_type="QUERY"
    )
    access_secret = reply.form["oauth_token_secret"]
    secrets = [fake.consumer.secret, token.secret, result.verifier, access_secret]
    shown = " ".join(
        [
            repr(fake),
            repr(fake.consumer),
            str(fake.consumer),
            repr(token),
            repr(result),
            repr(fake.user),
            repr(fake.requests),
            caplog.text,
        ]
        + [repr(obj) for obj in vars(fake).values()]
        + [repr(t) for t in fake._store.request_tokens.values()]
        + [repr(t) for t in fake._store.access_tokens.values()]
        + [repr(c) for c in fake._store.consumers.values()]
    )
    assert "GET /oauth/access_token" in caplog.text
    for secret in secrets:
        assert secret not in shown
    assert "Authorization" not in repr(fake.requests) and "OAuth " not in repr(fake.requests)


def test_public_api() -> None:
    # pytest's assertion rewriting (flattr ships a pytest plugin) may add names
    # such as "@py_builtins"; only identifiers are public names.
    public = {n for n in dir(flattr.testing) if n.isidentifier() and not n.startswith("_")} - {
        "pytest_plugin"
    }
    assert sorted(flattr.testing.__all__) == flattr.testing.__all__
    assert set(flattr.testing.__all__) == public
    for name in flattr.testing.__all__:
        obj = getattr(flattr.testing, name)
        if callable(obj):
            assert obj.__doc__, name


def test_users_things_and_seed(fake: FakeFlattr) -> None:
    assert [u.username for u in fake.users] == ["alice"]
    fake.seed_demo()
    assert [u.username for u in fake.users] == ["alice", "bob", "carol"]
    assert len(fake.things) == 5
    assert sum(t.hidden for t in fake.things) == 1
    assert all(len(t.id) == 32 and int(t.id, 16) >= 0 for t in fake.things)
    robin = fake.thing_by_url("https://alice.example.org/birds/robin")
    assert robin is not None
    assert robin.owner is fake.user
    assert fake.thing_by_url("http://nowhere.example/") is None


def test_add_user_and_thing_validation(fake: FakeFlattr) -> None:
    with pytest.raises(ValueError, match="taken"):
        fake.add_user("alice")
    with pytest.raises(ValueError, match="username"):
        fake.add_user("no spaces")
    with pytest.raises(ValueError, match="language"):
        fake.add_user("zed", language="en_US")
    fake.add_thing(fake.user, url="http://a.example/", title="Once", description="Only once.")
    with pytest.raises(ValueError, match="already registered"):
        fake.add_thing(fake.user, url="http://a.example/", title="Twice", description="No.")
    with pytest.raises(ValueError, match="category"):
        fake.add_thing(
            fake.user, url="http://b.example/", title="Bad", description="Cat.", category="people"
        )
    with pytest.raises(ValueError, match="XML"):
        fake.add_thing(fake.user, url="http://c.example/", title="Bell \x07", description="Ding.")


def test_stop_is_idempotent_and_closes_open_connections() -> None:
    fake = FakeFlattr().start()
    conn = connect(fake)
    conn.request("GET", "/nowhere")
    conn.getresponse().read()
    fake.stop()
    fake.stop()
    conn.close()
    assert repr(fake) == "<FakeFlattr not started>"


def test_absolute_form_request_target(fake: FakeFlattr) -> None:
    token = fake.issue_access_token()
    url = fake.base_url + ME
    _, headers, _ = Client(fake.consumer.key, fake.consumer.secret, token.key, token.secret).sign(
        url
    )
    assert send(fake, "GET", ME, headers=dict(headers)).status == 200
    conn = connect(fake)
    try:
        _, headers, _ = Client(
            fake.consumer.key, fake.consumer.secret, token.key, token.secret
        ).sign(url)
        conn.request("GET", url, headers=dict(headers))
        assert conn.getresponse().status == 200
    finally:
        conn.close()
    assert os.environ.get("NO_SUCH_VAR") is None
