"""Test helpers for API v2: plain ``requests`` calls against the fake (no flattr client)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import requests

from flattr.testing import BearerToken, FakeFlattr


class V2:
    """Sends v2 requests to one fake, optionally with a bearer token."""

    def __init__(self, fake: FakeFlattr, session: requests.Session, token: str | None) -> None:
        self.fake = fake
        self.session = session
        self.token = token

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        headers = dict(kwargs.pop("headers", None) or {})
        if self.token is not None:
            headers.setdefault("Authorization", f"Bearer {self.token}")
        kwargs.setdefault("allow_redirects", False)
        kwargs.setdefault("timeout", 10)
        if self.fake.ca_bundle:
            kwargs.setdefault("verify", self.fake.ca_bundle)
        url = path if path.startswith("http") else f"{self.fake.base_url}/rest/v2{path}"
        return self.session.request(method, url, headers=headers, **kwargs)

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("POST", path, **kwargs)

    def with_token(self, token: BearerToken | str | None) -> V2:
        text = token.token if isinstance(token, BearerToken) else token
        return V2(self.fake, self.session, text)


@contextmanager
def v2_api(fake: FakeFlattr, token: BearerToken | str | None = None) -> Iterator[V2]:
    """A :class:`V2` whose session is closed afterwards."""
    with requests.Session() as session:
        yield V2(fake, session, None).with_token(token)


def assert_error(reply: requests.Response, status: int, error: str) -> dict[str, Any]:
    """The reply is a JSON error body with this status and code."""
    assert reply.status_code == status, (reply.status_code, reply.text)
    assert reply.headers["Content-Type"] == "application/json;charset=utf-8"
    body: dict[str, Any] = reply.json()
    assert body["error"] == error, body
    assert isinstance(body["error_description"], str) and body["error_description"]
    assert body["error_uri"].startswith("http://developers.flattr.net/api/")
    return body
