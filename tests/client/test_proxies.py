"""Proxies: an explicit one, the environment's, NO_PROXY, and loopback reached directly.

A small HTTP CONNECT proxy runs on 127.0.0.1; FakeFlattr listens on 127.0.0.2
(loopback too, but not one of the hosts that always bypass a proxy).
"""

from __future__ import annotations

import contextlib
import select
import socket
import threading
from collections.abc import Iterator

import pytest

import flattr
from flattr.testing import FakeFlattr


class ConnectProxy:
    """Relays ``CONNECT host:port`` tunnels and records each target."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.targets: list[str] = []
        self.stopping = threading.Event()
        self.threads: list[threading.Thread] = []
        self.accepter = threading.Thread(target=self._accept, daemon=True)

    def __enter__(self) -> ConnectProxy:
        self.accepter.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stopping.set()
        self.listener.close()
        self.accepter.join(5)
        for thread in self.threads:
            thread.join(5)

    def _accept(self) -> None:
        self.listener.settimeout(0.1)
        while not self.stopping.is_set():
            try:
                client, _ = self.listener.accept()
            except (TimeoutError, OSError):
                continue
            thread = threading.Thread(target=self._tunnel, args=(client,), daemon=True)
            self.threads.append(thread)
            thread.start()

    def _tunnel(self, client: socket.socket) -> None:
        with contextlib.closing(client):
            client.settimeout(5)
            head = b""
            while b"\r\n\r\n" not in head:
                chunk = client.recv(4096)
                if not chunk:
                    return
                head += chunk
            method, target, _ = head.split(b"\r\n", 1)[0].decode().split(" ", 2)
            if method != "CONNECT":
                client.sendall(b"HTTP/1.1 405 Only CONNECT\r\nContent-Length: 0\r\n\r\n")
                return
            self.targets.append(target)
            host, _, port = target.rpartition(":")
            with contextlib.closing(socket.create_connection((host, int(port)), timeout=5)) as up:
                client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
                self._relay(client, up)

    def _relay(self, a: socket.socket, b: socket.socket) -> None:
        for _ in range(100_000):  # bounded; a test's calls need a few dozen rounds
            if self.stopping.is_set():
                return
            ready, _, _ = select.select([a, b], [], [], 0.1)
            for sock in ready:
                other = b if sock is a else a
                try:
                    data = sock.recv(65536)
                except OSError:
                    return
                if not data:
                    return
                other.sendall(data)


@pytest.fixture
def proxy() -> Iterator[ConnectProxy]:
    with ConnectProxy() as running:
        yield running


@pytest.fixture
def far_fake() -> Iterator[FakeFlattr]:
    with FakeFlattr(host="127.0.0.2") as fake:
        yield fake


@pytest.fixture(autouse=True)
def no_proxy_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("http_proxy", "https_proxy", "all_proxy", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)


def _client(fake: FakeFlattr, **options: object) -> flattr.FlattrClient:
    token = fake.issue_access_token()
    return flattr.FlattrClient(
        fake.consumer.key, fake.consumer.secret, token, base_url=fake.base_url, **options
    )


def test_an_explicit_proxy_carries_every_call(far_fake: FakeFlattr, proxy: ConnectProxy) -> None:
    with _client(far_fake, proxy=proxy.url) as api:
        assert api.me().username == "alice"
        assert api.me().username == "alice"
    assert proxy.targets == [f"127.0.0.2:{far_fake.port}"]  # one tunnel, kept alive
    assert len(far_fake.requests_to("/rest/0.0.1/user/me")) == 2


def test_the_environment_proxy_is_honoured(
    far_fake: FakeFlattr, proxy: ConnectProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    with _client(far_fake) as api:
        assert api.me().username == "alice"
    assert proxy.targets == [f"127.0.0.2:{far_fake.port}"]


def test_no_proxy_sends_a_host_directly(
    far_fake: FakeFlattr, proxy: ConnectProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    monkeypatch.setenv("NO_PROXY", "example.org,127.0.0.2")
    with _client(far_fake) as api:
        assert api.me().username == "alice"
    assert proxy.targets == []


def test_trust_env_false_ignores_the_environment(
    far_fake: FakeFlattr, proxy: ConnectProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    token = far_fake.issue_access_token()
    transport = flattr.Transport(trust_env=False)
    with flattr.FlattrClient(
        far_fake.consumer.key,
        far_fake.consumer.secret,
        token,
        base_url=far_fake.base_url,
        transport=transport,
    ) as api:
        assert api.me().username == "alice"
    assert proxy.targets == []


def test_loopback_is_always_reached_directly(
    fake: FakeFlattr, proxy: ConnectProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    with _client(fake, proxy=proxy.url) as api:  # fake listens on 127.0.0.1
        assert api.me().username == "alice"
    assert proxy.targets == []


def test_the_token_calls_go_through_the_proxy(far_fake: FakeFlattr, proxy: ConnectProxy) -> None:
    auth = flattr.FlattrAuth(
        far_fake.consumer.key,
        far_fake.consumer.secret,
        "oob",
        base_url=far_fake.base_url,
        proxy=proxy.url,
    )
    assert auth.fetch_request_token().key
    auth.close()
    assert proxy.targets == [f"127.0.0.2:{far_fake.port}"]


def test_a_proxy_that_refuses_is_a_transport_error(far_fake: FakeFlattr) -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{closed.getsockname()[1]}"
    with _client(far_fake, proxy=dead, retries=0) as api, pytest.raises(flattr.TransportError):
        api.me()
    assert far_fake.requests == []


@pytest.mark.parametrize("bad", ["ftp://proxy:21", "http://", "127.0.0.1:3128", "http://h:99999"])
def test_a_bad_proxy_url_is_a_validation_error(far_fake: FakeFlattr, bad: str) -> None:
    with pytest.raises(flattr.ValidationError) as caught:
        _client(far_fake, proxy=bad)
    assert caught.value.field == "proxy"


def test_a_bad_environment_proxy_is_named(
    far_fake: FakeFlattr, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTP_PROXY", "not a url")
    with _client(far_fake) as api, pytest.raises(flattr.ValidationError, match="HTTP_PROXY"):
        api.me()
    assert far_fake.requests == []


def test_the_proxy_password_stays_out_of_the_repr() -> None:
    transport = flattr.Transport(proxy="http://user:hunter2@127.0.0.1:3128")
    assert "hunter2" not in repr(transport)
    assert "http://127.0.0.1:3128" in repr(transport)
