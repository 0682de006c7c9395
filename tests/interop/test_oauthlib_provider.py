"""FlattrAuth and FlattrClient against a provider made of oauthlib's server endpoints.

oauthlib decides every request's fate with its default validator limits:
a nonce of 20 to 30 letters and digits, a timestamp within 600 seconds,
keys and verifiers of 20 to 30 characters, the signature over the exact
URI, query and form body.
"""

from __future__ import annotations

import http.client
from collections import Counter
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from oauthlib.oauth1 import RequestValidator

import flattr
from flattr.testing import FakeFlattr

from .kit import CALLBACK, CONSUMER_KEY, CONSUMER_SECRET, SCOPES, Provider


@pytest.fixture
def provider() -> Iterator[Provider]:
    with Provider() as server:
        yield server


def consent(authorize_url: str) -> str:
    """What the user's browser does: open the authorize URL, return the redirect."""
    parts = urlsplit(authorize_url)
    conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=10)
    try:
        conn.request("GET", f"{parts.path}?{parts.query}")
        response = conn.getresponse()
        response.read()
        assert response.status == 302, response.status
        return response.getheader("Location") or ""
    finally:
        conn.close()


def full_flow(provider: Provider, scopes: tuple[str, ...] = SCOPES) -> flattr.AccessToken:
    with flattr.FlattrAuth(
        CONSUMER_KEY, CONSUMER_SECRET, CALLBACK, base_url=provider.base_url, timeout=10
    ) as auth:
        request_token = auth.fetch_request_token()
        assert request_token.callback_confirmed is True
        redirect = consent(auth.authorize_url(request_token, scopes=scopes))
        assert redirect.startswith(CALLBACK + "?")
        verifier = auth.parse_callback(redirect, request_token)
        return auth.fetch_access_token(request_token, verifier)


def test_the_whole_flow_and_every_rest_method(provider: Provider) -> None:
    token = full_flow(provider)
    with flattr.FlattrClient(
        CONSUMER_KEY, CONSUMER_SECRET, token, base_url=provider.base_url, timeout=10
    ) as api:
        assert api.me().username == "alice"
        assert api.user(id=2).username == "bob"
        assert api.user(name="bob").id == 2
        assert api.thing(7).title == "Hello Flattr"
        assert api.thing(f"{7:032x}").int_id == 7
        assert [t.int_id for t in api.things()] == [8]
        assert [t.int_id for t in api.things(2)] == [7]
        found = api.thing_by_url("http://bob.example.org/hello")
        assert found is not None and found.int_id == 7
        assert api.thing_by_url("http://nobody.example.org/?q=a%20b&c=%25&d=ü") is None
        registered = api.register_thing(
            url="http://new.example/",
            title="Registered",
            category="text",
            description="Registered through oauthlib's provider.",
            language="en_GB",
            tags=("interop", "oauthlib"),
        )
        assert registered.int_id == 9
        api.click(7)
        assert [t.int_id for t in api.search("hello flattr")] == [7]
        assert len(api.browse(query="a b", tags=["a", "ü"], categories=["text"], users=[2])) == 2
        assert any(c.id == "text" for c in api.categories())
        assert any(lang.id == "sv_SE" for lang in api.languages())
    log = provider.records.log
    legs = [(path, status) for _, path, status, _ in log if path.startswith("/oauth/")]
    assert legs == [
        ("/oauth/request_token", 200),
        ("/oauth/authenticate", 302),
        ("/oauth/access_token", 200),
    ]
    rest_calls = [entry for entry in log if entry[1].startswith("/rest/")]
    # Every REST call passed oauthlib's checks; the one 404 is the unknown URL.
    assert [verdict for *_, verdict in rest_calls] == ["resource"] * 15, rest_calls
    assert [status for _, _, status, _ in rest_calls].count(404) == 1


def test_a_wrong_consumer_secret_is_refused_by_oauthlib(provider: Provider) -> None:
    auth = flattr.FlattrAuth(CONSUMER_KEY, "not-the-secret", CALLBACK, base_url=provider.base_url)
    with pytest.raises(flattr.OAuthError) as caught:
        auth.fetch_request_token()
    assert caught.value.status == 401
    assert provider.records.log[-1][2] == 401


def test_a_token_without_a_scope_is_refused_by_oauthlib(provider: Provider) -> None:
    token = full_flow(provider, scopes=("read",))
    with flattr.FlattrClient(
        CONSUMER_KEY, CONSUMER_SECRET, token, base_url=provider.base_url, timeout=10
    ) as api:
        assert api.me().username == "alice"
        with pytest.raises(flattr.AuthenticationError):
            api.click(7)


def test_our_nonces_pass_oauthlibs_default_check(fake: FakeFlattr) -> None:
    token = fake.issue_access_token()
    with flattr.FlattrClient(
        fake.consumer.key, fake.consumer.secret, token, base_url=fake.base_url
    ) as api:
        for _ in range(70):  # more than one batch of the nonce pool
            api.me()
    nonces = [r.oauth_params["oauth_nonce"] for r in fake.requests]
    assert len(set(nonces)) == len(nonces) == 70
    check = RequestValidator()
    for nonce in nonces:
        assert check.check_nonce(nonce), nonce
        assert nonce.isascii() and nonce.isalnum()
        assert len(nonce) == 26  # of 32 equally likely characters: 130 random bits
    # Every character of the alphabet turns up about equally often (1,820 draws,
    # about 57 each; the bounds are more than five standard deviations away).
    counts = Counter("".join(nonces))
    assert set(counts) == set("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
    assert min(counts.values()) >= 15, counts
    assert max(counts.values()) <= 110, counts
