"""TLS: verification is always on; ``ca_certs=`` is the only way to trust a private CA."""

from __future__ import annotations

import datetime
import gc
import inspect
import socket
import ssl
import threading
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import trustme

import flattr
from flattr._http import Transport
from flattr.testing import FakeFlattr

from .kit import USER_XML, RawRequest, ScriptedServer, answer, client_for, close_idle

Scripted = Callable[..., ScriptedServer]


@pytest.fixture
def tls_fake() -> Iterator[FakeFlattr]:
    with FakeFlattr(tls=True) as server:
        yield server


def tls_client(fake: FakeFlattr, **options: object) -> tuple[flattr.FlattrClient, list[float]]:
    waits: list[float] = []
    transport = Transport(timeout=5, sleep=waits.append, **options)  # type: ignore[arg-type]
    token = fake.issue_access_token(scopes=("read", "publish"))
    api = flattr.FlattrClient(
        fake.consumer.key, fake.consumer.secret, token, base_url=fake.base_url, transport=transport
    )
    return api, waits


def test_untrusted_certificate_is_refused(tls_fake: FakeFlattr) -> None:
    """T31: the test CA is not in the default trust store."""
    api, waits = tls_client(tls_fake)
    with pytest.raises(flattr.TLSError) as caught:
        api.me()
    assert "not trusted" in str(caught.value)
    assert "ca_certs" in str(caught.value)
    assert isinstance(caught.value.__cause__, ssl.SSLCertVerificationError)
    assert waits == []  # a certificate does not get better by asking again
    assert tls_fake.requests == []


def test_trusted_ca_bundle_works_and_keeps_the_connection(tls_fake: FakeFlattr) -> None:
    assert tls_fake.ca_bundle is not None
    api, _ = tls_client(tls_fake, ca_certs=tls_fake.ca_bundle)
    for _ in range(5):
        assert api.me().username == "alice"
    assert tls_fake.connections_opened == 1
    api.close()


def test_full_session_over_tls(tls_fake: FakeFlattr) -> None:
    assert tls_fake.ca_bundle is not None
    auth = flattr.FlattrAuth(
        tls_fake.consumer.key,
        tls_fake.consumer.secret,
        "oob",
        base_url=tls_fake.base_url,
        ca_certs=tls_fake.ca_bundle,
        timeout=5,
    )
    request_token = auth.fetch_request_token()
    verifier = tls_fake.consent(auth.authorize_url(request_token, scopes=("read", "publish")))
    assert verifier.verifier is not None
    access = auth.fetch_access_token(request_token, verifier.verifier)
    with flattr.FlattrClient(
        tls_fake.consumer.key,
        tls_fake.consumer.secret,
        access,
        base_url=tls_fake.base_url,
        ca_certs=tls_fake.ca_bundle,
        timeout=5,
    ) as api:
        thing = api.register_thing(
            url="https://blog.example.org/tls",
            title="Over TLS",
            category="text",
            description="Sent encrypted.",
            language="en_GB",
        )
        assert api.thing(thing.id).title == "Over TLS"
    auth.close()


def test_stale_tls_connection_is_replaced(tls_fake: FakeFlattr) -> None:
    assert tls_fake.ca_bundle is not None
    api, waits = tls_client(tls_fake, ca_certs=tls_fake.ca_bundle)
    api.me()
    close_idle(tls_fake)
    assert api.me().username == "alice"
    assert waits == []
    assert len(tls_fake.requests_to("/rest/0.0.1/user/me")) == 2


def test_another_cas_bundle_is_refused(tls_fake: FakeFlattr, tmp_path: Path) -> None:
    other = tmp_path / "other-ca.pem"
    trustme.CA().cert_pem.write_to_path(str(other))
    api, _ = tls_client(tls_fake, ca_certs=str(other))
    with pytest.raises(flattr.TLSError):
        api.me()
    assert tls_fake.requests == []


def _tls_server(
    scripted: Scripted, ca: trustme.CA, *names: str, **cert_options: object
) -> ScriptedServer:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(*names, **cert_options).configure_cert(context)  # type: ignore[arg-type]

    def handler(sock: socket.socket, request: RawRequest, stopping: threading.Event) -> None:
        sock.sendall(answer(200, USER_XML))

    return scripted(handler, ssl_context=context)


def test_certificate_for_another_host_is_refused(scripted: Scripted, tmp_path: Path) -> None:
    ca = trustme.CA()
    bundle = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    server = _tls_server(scripted, ca, "flattr.example")
    api, _ = client_for(server.base_url, ca_certs=str(bundle))
    with pytest.raises(flattr.TLSError) as caught:
        api.me()
    assert "mismatch" in str(caught.value).lower() or "match" in str(caught.value).lower()
    assert server.requests == []


def test_expired_certificate_is_refused(scripted: Scripted, tmp_path: Path) -> None:
    ca = trustme.CA()
    bundle = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    past = datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC)
    server = _tls_server(
        scripted,
        ca,
        "127.0.0.1",
        not_before=past,
        not_after=past + datetime.timedelta(days=1),
    )
    api, _ = client_for(server.base_url, ca_certs=str(bundle))
    with pytest.raises(flattr.TLSError) as caught:
        api.me()
    assert "expired" in str(caught.value)
    assert server.requests == []


def test_same_ca_and_host_over_a_scripted_server_works(scripted: Scripted, tmp_path: Path) -> None:
    """The control for the two tests above: only the certificate differs."""
    ca = trustme.CA()
    bundle = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    server = _tls_server(scripted, ca, "127.0.0.1")
    api, _ = client_for(server.base_url, ca_certs=str(bundle))
    assert api.me().username == "scripted"


def test_https_to_a_plain_http_port(fake: FakeFlattr) -> None:
    api, waits = client_for(f"https://127.0.0.1:{fake.port}")
    with pytest.raises(flattr.TLSError) as caught:
        api.me()
    assert "TLS handshake failed" in str(caught.value)
    assert waits == []


def test_there_is_no_switch_to_turn_verification_off(tls_fake: FakeFlattr) -> None:
    for target in (flattr.FlattrClient, flattr.FlattrAuth, Transport):
        names = set(inspect.signature(target).parameters)
        for word in ("verify", "insecure", "disable", "validation", "ssl", "cert_reqs"):
            assert not any(word in name for name in names), (target, names)
    http = Transport()._default_http()
    assert http.disable_ssl_certificate_validation is False


def test_failed_https_connects_leave_no_socket_behind(tls_fake: FakeFlattr) -> None:
    """httplib2's HTTPS connect leaks its socket when connecting fails; ours does not."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for base_url in (f"https://127.0.0.1:{closed_port}", tls_fake.base_url):
            api, _ = client_for(base_url, retries=1)
            with pytest.raises(flattr.TransportError):
                api.me()
            del api
        gc.collect()
    leaks = [w for w in caught if issubclass(w.category, ResourceWarning)]
    assert leaks == []
