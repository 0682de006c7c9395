"""FakeFlattr driven by the 2011 tutorial's own steps: python-oauth2 and httplib2.

The tutorial (``seed-tutorial-python-oauth2.txt`` in the project's shared
notes) builds the request-token call by hand with ``oauth2.Request`` and
sends it as a signed GET URL with httplib2, then uses ``oauth2.Client`` for
the access token and for ``user/me``. Here each step is the tutorial's,
against FakeFlattr instead of api.flattr.com, and each way of getting it
wrong is refused with its ``oauth_problem``.
"""

from __future__ import annotations

import sys
import warnings
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs

import httplib2
import pytest

from flattr.testing import FakeFlattr

from .kit_problems import oauth_problem

with warnings.catch_warnings():
    # python-oauth2 (2015) builds its version with distutils' deprecated Version class.
    warnings.simplefilter("ignore", DeprecationWarning)
    try:
        import oauth2 as oauth
    except ModuleNotFoundError as missing:  # pragma: no cover - depends on the interpreter
        reason = f"python-oauth2 is not importable ({missing})"
        if sys.version_info >= (3, 12) and missing.name == "distutils":
            reason += "; it imports distutils, gone from Python 3.12: pip install setuptools"
        pytest.skip(reason, allow_module_level=True)

CALLBACK = "http://127.0.0.1:9/callback"
HOUR = 3600


@pytest.fixture
def http() -> Iterator[httplib2.Http]:
    connection = httplib2.Http(proxy_info=None, timeout=10)
    yield connection
    connection.close()


def request_token_url(fake: FakeFlattr, secret: str, **override: Any) -> str:
    """The tutorial's first step: a hand-built, signed request-token URL."""
    key = fake.consumer.key
    consumer = oauth.Consumer(key, secret)
    params = {
        "oauth_consumer_key": key,
        "oauth_timestamp": oauth.Request.make_timestamp(),
        "oauth_nonce": oauth.Request.make_nonce(),
        "oauth_version": oauth.Request.version,
        "oauth_callback": CALLBACK,
    }
    params.update(override)
    req = oauth.Request(url=f"{fake.base_url}/oauth/request_token", parameters=params)
    req.sign_request(oauth.SignatureMethod_HMAC_SHA1(), consumer, None)
    return str(req.to_url())


def test_the_tutorials_steps_work(fake: FakeFlattr, http: httplib2.Http) -> None:
    consumer = oauth.Consumer(fake.consumer.key, fake.consumer.secret)
    response, content = http.request(request_token_url(fake, fake.consumer.secret))
    assert response.status == 200
    parse_ret = parse_qs(content.decode())
    request_token = parse_ret["oauth_token"][0]
    request_token_secret = parse_ret["oauth_token_secret"][0]
    assert parse_ret["oauth_callback_confirmed"] == ["true"]

    # The tutorial pastes the whole answer after the authorize URL.
    url = f"{fake.base_url}/oauth/authenticate?access_scope=read,publish&{content.decode()}"
    consent = fake.consent(url)
    assert consent.verifier

    token = oauth.Token(request_token, request_token_secret)
    token.set_verifier(consent.verifier)
    client = oauth.Client(consumer, token, proxy_info=None, timeout=10)
    try:
        response, content = client.request(f"{fake.base_url}/oauth/access_token", "POST")
    finally:
        client.close()
    assert response.status == 200
    parse_ret = parse_qs(content.decode())
    token = oauth.Token(parse_ret["oauth_token"][0], parse_ret["oauth_token_secret"][0])

    client = oauth.Client(consumer, token, proxy_info=None, timeout=10)
    try:
        response, content = client.request(f"{fake.base_url}/rest/0.0.1/user/me", "GET")
    finally:
        client.close()
    assert response.status == 200
    assert b"alice" in content


def test_a_wrong_consumer_secret_is_refused(fake: FakeFlattr, http: httplib2.Http) -> None:
    response, content = http.request(request_token_url(fake, "not-the-secret"))
    assert response.status == 401
    assert oauth_problem(response, content) == "signature_invalid"


def test_a_wrong_access_token_secret_is_refused(fake: FakeFlattr) -> None:
    issued = fake.issue_access_token()
    consumer = oauth.Consumer(fake.consumer.key, fake.consumer.secret)
    client = oauth.Client(
        consumer, oauth.Token(issued.key, "not-the-token-secret"), proxy_info=None
    )
    try:
        response, content = client.request(f"{fake.base_url}/rest/0.0.1/user/me", "GET")
    finally:
        client.close()
    assert response.status == 401
    assert oauth_problem(response, content) == "signature_invalid"


def test_a_reused_nonce_is_refused(fake: FakeFlattr, http: httplib2.Http) -> None:
    url = request_token_url(fake, fake.consumer.secret)
    assert http.request(url)[0].status == 200
    response, content = http.request(url)  # the same signed URL, nonce and all
    assert response.status == 401
    assert oauth_problem(response, content) == "nonce_used"


@pytest.mark.parametrize("offset", [-HOUR, +HOUR], ids=["past", "future"])
def test_a_timestamp_an_hour_off_is_refused(
    fake: FakeFlattr, http: httplib2.Http, offset: int
) -> None:
    stamp = str(int(oauth.Request.make_timestamp()) + offset)
    response, content = http.request(
        request_token_url(fake, fake.consumer.secret, oauth_timestamp=stamp)
    )
    assert response.status == 401
    assert oauth_problem(response, content) == "timestamp_refused"
