"""Test helpers: sign requests with oauthlib and send them with http.client.

Deliberately independent of the flattr client (which is written separately).
"""

from __future__ import annotations

import http.client
import ssl
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlencode, urlsplit
from xml.etree.ElementTree import Element

import defusedxml.ElementTree as SafeET
from oauthlib.oauth1 import SIGNATURE_TYPE_AUTH_HEADER, Client

from flattr.testing import Credentials, FakeFlattr

FORM = "application/x-www-form-urlencoded"


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes = field(repr=False)

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers.items() if k.lower() == name.lower()), None)

    @property
    def form(self) -> dict[str, str]:
        return dict(parse_qsl(self.body.decode()))

    @property
    def xml(self) -> Element:
        return SafeET.fromstring(self.body, forbid_dtd=True)


def send(
    fake: FakeFlattr,
    method: str,
    target: str,
    *,
    headers: dict[str, str] | None = None,
    body: bytes | None = None,
    conn: http.client.HTTPConnection | None = None,
) -> Reply:
    """Send one raw request; ``target`` is a path (with query) or a full URL."""
    parts = urlsplit(target)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    own = conn is None
    connection = conn or connect(fake)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        data = response.read()
        return Reply(response.status, dict(response.getheaders()), data)
    finally:
        if own:
            connection.close()


def connect(fake: FakeFlattr, timeout: float = 5) -> http.client.HTTPConnection:
    parts = urlsplit(fake.base_url)
    host, port = parts.hostname or "", parts.port or 0
    if parts.scheme == "https":
        context = ssl.create_default_context(cafile=fake.ca_bundle)
        return http.client.HTTPSConnection(host, port, timeout=timeout, context=context)
    return http.client.HTTPConnection(host, port, timeout=timeout)


class Signer:
    """Signs requests as one consumer (and optionally one token)."""

    def __init__(
        self,
        fake: FakeFlattr,
        consumer: Credentials,
        token: Credentials | None = None,
    ) -> None:
        self.fake = fake
        self.consumer = consumer
        self.token = token

    def client(self, **kwargs: object) -> Client:
        return Client(
            self.consumer.key,
            client_secret=self.consumer.secret,
            resource_owner_key=self.token.key if self.token else None,
            resource_owner_secret=self.token.secret if self.token else None,
            **kwargs,  # type: ignore[arg-type]
        )

    def call(
        self,
        method: str,
        path: str,
        *,
        form: dict[str, str] | None = None,
        signature_type: str = SIGNATURE_TYPE_AUTH_HEADER,
        conn: http.client.HTTPConnection | None = None,
        **client_kwargs: object,
    ) -> Reply:
        """Sign and send; ``form`` becomes a form-encoded body (signed)."""
        client = self.client(signature_type=signature_type, **client_kwargs)
        url = self.fake.base_url + path
        headers: dict[str, str] = {}
        body: str | None = None
        if form or signature_type == "BODY":
            headers["Content-Type"] = FORM
            body = urlencode(form or {})
        uri, signed_headers, signed_body = client.sign(url, method, body or None, headers)
        data = signed_body.encode() if isinstance(signed_body, str) else signed_body
        if method == "POST" and data is None:
            data = b""
        return send(self.fake, method, uri, headers=dict(signed_headers), body=data, conn=conn)

    def get(self, path: str, **kwargs: object) -> Reply:
        return self.call("GET", path, **kwargs)  # type: ignore[arg-type]


def rest(fake: FakeFlattr, token: Credentials, consumer: Credentials | None = None) -> Signer:
    """A signer for REST calls as ``token``."""
    return Signer(fake, consumer or fake.consumer, token)


def request_token(fake: FakeFlattr, callback: str = "http://app.example/cb") -> Credentials:
    reply = Signer(fake, fake.consumer).call("POST", "/oauth/request_token", callback_uri=callback)
    assert reply.status == 200, reply.body
    form = reply.form
    return Credentials(form["oauth_token"], form["oauth_token_secret"])


def access_token(fake: FakeFlattr, req_token: Credentials, verifier: str) -> Reply:
    return Signer(fake, fake.consumer, req_token).call(
        "POST", "/oauth/access_token", verifier=verifier
    )
