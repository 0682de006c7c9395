"""A long-running FakeFlattr stays bounded: log, nonces, threads, memory; reset() and sharing.

These check bounds (sizes, counts), never speed: that is benchmarks/fake_scale.py.
"""

from __future__ import annotations

import gc
import socket
import ssl
import subprocess
import sys
import textwrap
import threading
import time
import tracemalloc
from contextlib import ExitStack
from pathlib import Path

import pytest

from flattr.testing import FakeFlattr

from .kit import FORM, Signer, connect, rest, send

ME = "/rest/0.0.1/user/me"
MIB = 1024 * 1024


def _get(sock: socket.socket, path: str = "/nowhere") -> bytes:
    """One keep-alive GET on a raw socket; the whole answer (they are small)."""
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    return _answer(sock)


def _answer(sock: socket.socket) -> bytes:
    data = b""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        head, sep, rest_ = data.partition(b"\r\n\r\n")
        if sep:
            length = int(
                next(
                    ln for ln in head.split(b"\r\n") if ln.lower().startswith(b"content-length:")
                ).split(b":")[1]
            )
            if len(rest_) >= length:
                return data
        chunk = sock.recv(65536)
        if not chunk:
            return data
        data += chunk
    raise AssertionError("no whole answer within 5 s")


def _closed_by_peer(sock: socket.socket, within: float) -> bool:
    sock.settimeout(within)
    try:
        return sock.recv(1) == b""
    except (ConnectionResetError, TimeoutError):
        return False


# -- the request log ------------------------------------------------------------


def test_the_log_keeps_the_last_n_and_counts_the_rest() -> None:
    with FakeFlattr(max_recorded=10) as fake:
        for n in range(25):
            send(fake, "GET", f"/nowhere/{n}")
        kept = fake.requests
        assert [r.path for r in kept] == [f"/nowhere/{n}" for n in range(15, 25)]
        assert fake.requests_dropped == 15
        fake.clear_requests()
        assert fake.requests == []
        assert fake.requests_dropped == 15  # clearing is not dropping


def test_recording_can_be_turned_off_and_on() -> None:
    with FakeFlattr(record_requests=False) as fake:
        assert fake.recording is False
        send(fake, "GET", "/nowhere")
        assert fake.requests == []
        assert fake.requests_dropped == 1
        fake.recording = True
        send(fake, "GET", "/somewhere")
        assert [r.path for r in fake.requests] == ["/somewhere"]


def test_long_bodies_are_kept_truncated_and_marked() -> None:
    with FakeFlattr(max_recorded_body=100) as fake:
        token = fake.issue_access_token(scopes=("publish",))
        data = "<thing>" + "x" * 1000 + "</thing>"
        reply = rest(fake, token).call("POST", "/rest/0.0.1/thing/register", form={"data": data})
        assert reply.status == 500  # not a valid thing, but authenticated and read whole
        (entry,) = fake.requests
        assert entry.truncated is True
        assert len(entry.body) == 100
        assert entry.body_size > 1000
        # what was cut away still shows in the OAuth parameters
        assert entry.oauth_params["oauth_token"] == token.key
        send(fake, "GET", "/short")
        assert fake.requests[-1].truncated is False


def test_an_unauthenticated_body_is_not_kept(fake: FakeFlattr) -> None:
    body = b"data=" + b"x" * (MIB - 5)
    reply = send(fake, "POST", "/oauth/request_token", headers={"Content-Type": FORM}, body=body)
    assert reply.status == 401
    (entry,) = fake.requests
    assert (entry.status, entry.body_size, entry.truncated) == (401, MIB, True)
    assert len(entry.body) <= 256


def test_unauthenticated_megabyte_posts_leave_nothing_behind(fake: FakeFlattr) -> None:
    body = b"x" * MIB
    conn = connect(fake)
    try:
        send(fake, "POST", ME, headers={"Content-Type": FORM}, body=body, conn=conn)  # warm-up
        gc.collect()
        tracemalloc.start()
        try:
            before = tracemalloc.get_traced_memory()[0]
            for _ in range(30):
                reply = send(fake, "POST", ME, headers={"Content-Type": FORM}, body=body, conn=conn)
                assert reply.status == 405
                reply = send(fake, "POST", "/oauth/access_token", body=body, conn=conn)
                assert reply.status == 401
            # answered only once the server has let go of the last big body
            assert send(fake, "GET", "/nowhere", conn=conn).status == 404
            gc.collect()
            grown = tracemalloc.get_traced_memory()[0] - before
        finally:
            tracemalloc.stop()
    finally:
        conn.close()
    assert len(fake.requests) == 62
    # 60 MiB went through; what stays is the log's few kilobytes per entry.
    assert grown < 1 * MIB, grown


def test_memory_stays_flat_over_many_signed_requests() -> None:
    with FakeFlattr(max_recorded=200, max_nonces=300) as fake:
        api = rest(fake, fake.issue_access_token())
        conn = connect(fake)
        try:
            for _ in range(300):  # fill the log and the nonce book first
                assert api.get(ME, conn=conn).status == 200
            gc.collect()
            tracemalloc.start()
            try:
                before = tracemalloc.get_traced_memory()[0]
                for _ in range(600):
                    assert api.get(ME, conn=conn).status == 200
                gc.collect()
                grown = tracemalloc.get_traced_memory()[0] - before
            finally:
                tracemalloc.stop()
        finally:
            conn.close()
        assert len(fake.requests) == 200
        assert fake.requests_dropped == 700
        # over the limit only by the last two seconds' nonces, never past 4x
        assert len(fake._provider.nonces) <= 4 * 300
    assert grown < 256 * 1024, grown


# -- nonces ---------------------------------------------------------------------


def test_a_full_nonce_book_refuses_the_forgotten_timestamps_instead_of_replays() -> None:
    now = 1_300_000_000
    with FakeFlattr(clock=lambda: float(now), timestamp_tolerance=600, max_nonces=2) as fake:
        api = rest(fake, fake.issue_access_token())
        for nonce, stamp in (("nonce-a1", now - 3), ("nonce-b2", now - 2), ("nonce-c3", now - 1)):
            assert api.get(ME, nonce=nonce, timestamp=str(stamp)).status == 200
        assert len(fake._provider.nonces) == 2
        # nonce-a1 was forgotten: its replay must not pass, and is refused by its timestamp
        replay = api.get(ME, nonce="nonce-a1", timestamp=str(now - 3))
        assert replay.status == 401
        assert replay.xml.findtext("error/message") == "timestamp_refused"
        # the remembered ones are refused as reused
        again = api.get(ME, nonce="nonce-c3", timestamp=str(now - 1))
        assert again.xml.findtext("error/message") == "nonce_used"
        # and the leg reports the raised lower bound
        reply = Signer(fake, fake.consumer).call(
            "POST", "/oauth/request_token", callback_uri="oob", timestamp=str(now - 3)
        )
        assert b"oauth_acceptable_timestamps=1299999998-1300000600" in reply.body
        assert api.get(ME, nonce="nonce-d4", timestamp=str(now)).status == 200


# -- connections and threads ----------------------------------------------------


def test_200_idle_connections_do_not_make_200_threads() -> None:
    before = threading.active_count()
    with FakeFlattr(max_workers=4) as fake, ExitStack() as stack:
        socks = []
        for _ in range(200):
            sock = stack.enter_context(
                socket.create_connection(("127.0.0.1", fake.port), timeout=5)
            )
            socks.append(sock)
            assert _get(sock).startswith(b"HTTP/1.1 404")
        assert fake.connections_opened == 200
        assert fake._engine.open_connections == 200
        assert fake._engine.worker_threads <= 4
        assert threading.active_count() - before <= 5  # the workers and the selector thread
        # every one of them is still usable
        assert all(_get(sock).startswith(b"HTTP/1.1 404") for sock in socks[::20])


def test_idle_connections_are_closed_after_the_idle_timeout() -> None:
    with FakeFlattr(idle_timeout=0.3) as fake:
        with socket.create_connection(("127.0.0.1", fake.port), timeout=5) as idle:
            assert _get(idle).startswith(b"HTTP/1.1 404")
            assert _closed_by_peer(idle, within=5)
        with socket.create_connection(("127.0.0.1", fake.port), timeout=5) as slow:
            slow.sendall(b"GET /nowhere HTTP/1.1\r\nHo")  # and never the rest
            assert _closed_by_peer(slow, within=5)
        deadline = time.monotonic() + 5  # the count drops just after the socket closes
        while fake._engine.open_connections and time.monotonic() < deadline:
            time.sleep(0.01)
        assert fake._engine.open_connections == 0


def test_slow_clients_hold_no_worker() -> None:
    with FakeFlattr(max_workers=1) as fake, ExitStack() as stack:
        for _ in range(5):  # each has started a request and is taking its time
            slow = stack.enter_context(
                socket.create_connection(("127.0.0.1", fake.port), timeout=5)
            )
            slow.sendall(b"POST /oauth/request_token HTTP/1.1\r\nContent-Length: 100\r\n\r\nab")
        api = rest(fake, fake.issue_access_token())
        assert api.get(ME).status == 200  # the one worker is free for a client that is ready


def test_a_stopped_fake_starts_again() -> None:
    fake = FakeFlattr()
    try:
        for _ in range(3):
            fake.start()
            api = rest(fake, fake.issue_access_token())
            assert api.get(ME).status == 200
            fake.stop()
    finally:
        fake.stop()
    assert len(fake.requests) == 3


def test_pipelined_requests_are_answered_in_order(fake: FakeFlattr) -> None:
    with socket.create_connection(("127.0.0.1", fake.port), timeout=5) as sock:
        sock.sendall(
            b"GET /first HTTP/1.1\r\nHost: x\r\n\r\nGET /second HTTP/1.1\r\nHost: x\r\n\r\n"
        )
        data = b""
        while data.count(b"HTTP/1.1 404") < 2:
            chunk = sock.recv(65536)
            assert chunk
            data += chunk
    assert [r.path for r in fake.requests] == ["/first", "/second"]
    assert {r.connection_id for r in fake.requests} == {1}


def test_big_bodies_and_pipelining_over_tls(fake_flattr_tls: FakeFlattr) -> None:
    fake = fake_flattr_tls
    assert fake.ca_bundle is not None
    context = ssl.create_default_context(cafile=fake.ca_bundle)
    with (
        socket.create_connection(("127.0.0.1", fake.port), timeout=5) as raw,
        context.wrap_socket(raw, server_hostname="127.0.0.1") as sock,
    ):
        body = b"x" * (MIB - 10)
        head = f"POST /nowhere HTTP/1.1\r\nHost: x\r\nContent-Length: {len(body)}\r\n\r\n"
        sock.sendall(head.encode() + body + b"GET /after HTTP/1.1\r\nHost: x\r\n\r\n")
        data = b""
        while data.count(b"HTTP/1.1 404") < 2:
            chunk = sock.recv(65536)
            assert chunk
            data += chunk
    first, second = fake.requests
    assert (first.path, first.body_size, second.path) == ("/nowhere", MIB - 10, "/after")


def test_expect_100_continue(fake: FakeFlattr) -> None:
    with socket.create_connection(("127.0.0.1", fake.port), timeout=5) as sock:
        head = b"POST /nowhere HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n"
        sock.sendall(head + b"Expect: 100-continue\r\n\r\n")
        assert sock.recv(100) == b"HTTP/1.1 100 Continue\r\n\r\n"
        sock.sendall(b"body")
        assert _answer(sock).startswith(b"HTTP/1.1 404")
    assert fake.requests[-1].body == b"body"


def test_oversized_heads_are_refused(fake: FakeFlattr) -> None:
    with socket.create_connection(("127.0.0.1", fake.port), timeout=5) as sock:
        sock.sendall(b"GET /" + b"a" * (70 * 1024))
        assert sock.recv(100).startswith(b"HTTP/1.1 414")
    with socket.create_connection(("127.0.0.1", fake.port), timeout=5) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\n" + b"X-Big: y\r\n" * 8000)
        assert sock.recv(100).startswith(b"HTTP/1.1 431")


# -- reset and the shared fixture -----------------------------------------------


def test_reset_restores_the_state_after_construction(fake: FakeFlattr) -> None:
    consumer, alice_id = fake.consumer, fake.user.id
    bob = fake.add_user("bob")
    fake.add_thing(bob, url="https://bob.example/1", title="One", description="First.")
    token = fake.issue_access_token(bob)
    fake.log_in(bob)
    fake.inject_fault(ME, "status", times=5)
    assert rest(fake, token).get(ME).status == 503
    keep_alive = connect(fake)
    try:
        assert send(fake, "GET", "/nowhere", conn=keep_alive).status == 404
        fake.reset()
        assert fake.consumer == consumer
        assert [u.username for u in fake.users] == ["alice"]
        assert fake.user.id == alice_id
        assert fake.session_user is fake.user
        assert fake.things == ()
        assert fake.requests == [] and fake.requests_dropped == 0
        assert fake.connections_opened == 0
        assert rest(fake, token).get(ME).status == 401  # bob's token went with him
        fresh = fake.issue_access_token()
        assert rest(fake, fresh).get(ME).status == 200  # no fault left
        assert [r.connection_id for r in fake.requests] == [1, 2]
    finally:
        keep_alive.close()


def test_reset_clears_api_v2_and_keeps_the_oauth2_client(fake: FakeFlattr) -> None:
    app = fake.oauth2_client
    bearer = fake.issue_v2_token()

    def me(token: str) -> int:
        return send(
            fake, "GET", "/rest/v2/user", headers={"Authorization": f"Bearer {token}"}
        ).status

    assert me(bearer.token) == 200
    fake.reset()
    assert me(bearer.token) == 401
    assert (fake.oauth2_client.client_id, fake.oauth2_client.client_secret) == (
        app.client_id,
        app.client_secret,
    )
    assert me(fake.issue_v2_token().token) == 200


def test_reset_refuses_to_wipe_a_state_file(tmp_path: Path) -> None:
    state = tmp_path / "fake.sqlite"
    with FakeFlattr(state=state) as fake:
        fake.add_user("bob")
        with pytest.raises(RuntimeError, match="state file"):
            fake.reset()
        assert [u.username for u in fake.users] == ["alice", "bob"]
    with FakeFlattr(state=state) as again:
        assert [u.username for u in again.users] == ["alice", "bob"]


@pytest.fixture
def suite(tmp_path: Path) -> Path:
    return tmp_path / "test_shared.py"


def test_the_shared_fixture_resets_between_tests(suite: Path) -> None:
    suite.write_text(
        textwrap.dedent(
            """
            import http.client

            def test_one(fake_flattr_shared, fake_flattr_session):
                assert fake_flattr_shared is fake_flattr_session
                fake_flattr_shared.add_user("bob")
                fake_flattr_shared.inject_fault("/", "status", times=100)
                conn = http.client.HTTPConnection("127.0.0.1", fake_flattr_shared.port)
                conn.request("GET", "/x")
                assert conn.getresponse().status == 503
                conn.close()

            def test_two(fake_flattr_shared):
                assert [u.username for u in fake_flattr_shared.users] == ["alice"]
                assert fake_flattr_shared.requests == []
                conn = http.client.HTTPConnection("127.0.0.1", fake_flattr_shared.port)
                conn.request("GET", "/x")
                assert conn.getresponse().status == 404
                conn.close()

            def test_same_server(fake_flattr_shared, fake_flattr_session):
                assert fake_flattr_shared.port == fake_flattr_session.port
            """
        )
    )
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(suite)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=suite.parent,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 passed" in result.stdout


def test_the_plugin_imports_nothing_heavy() -> None:
    code = (
        "import sys, flattr.testing.pytest_plugin\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('flattr', 'httplib2', 'oauthlib', 'defusedxml', 'trustme')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    ).stdout
    assert eval(out) == [  # our own subprocess's repr of a list of str
        "flattr",
        "flattr._version",
        "flattr.testing",
        "flattr.testing.pytest_plugin",
    ]
