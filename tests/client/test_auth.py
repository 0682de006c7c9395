"""The three-legged OAuth 1.0a flow against FakeFlattr, over real HTTP."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace

import pytest

import flattr
from flattr.testing import FakeFlattr

CALLBACK = "http://127.0.0.1:9/callback"


def test_full_flow_with_browser_consent(fake: FakeFlattr, auth: flattr.FlattrAuth) -> None:
    request_token = auth.fetch_request_token()
    assert request_token.callback_confirmed is True

    url = auth.authorize_url(request_token, scopes=("read", "publish"))
    consent = fake.consent(url, allow=True)
    assert consent.redirect_url is not None
    assert consent.redirect_url.startswith(CALLBACK + "?")

    verifier = auth.parse_callback(consent.redirect_url, request_token)
    access_token = auth.fetch_access_token(request_token, verifier)

    client = flattr.FlattrClient(
        fake.consumer.key, fake.consumer.secret, access_token, base_url=fake.base_url
    )
    assert client.me().username == "alice"


def test_each_leg_sends_what_oauth_1_0a_requires(fake: FakeFlattr, auth: flattr.FlattrAuth) -> None:
    request_token = auth.fetch_request_token()
    verifier = fake.approve(request_token.key, scopes=("read",))
    auth.fetch_access_token(request_token, verifier)

    (rt_call,) = fake.requests_to("/oauth/request_token")
    (at_call,) = fake.requests_to("/oauth/access_token")
    for call in (rt_call, at_call):
        header = call.header("Authorization") or ""
        assert header.startswith("OAuth ")
        assert call.oauth_params["oauth_signature_method"] == "HMAC-SHA1"
        assert call.oauth_params["oauth_version"] == "1.0"
        assert call.oauth_params["oauth_consumer_key"] == fake.consumer.key
        assert "oauth_signature" in header
        # parameters travel in the header only, never in the URL
        assert not any(name.startswith("oauth_") for name in call.query)
        assert call.status == 200
    assert rt_call.oauth_params["oauth_callback"] == CALLBACK
    assert "oauth_token" not in rt_call.oauth_params
    assert at_call.oauth_params["oauth_verifier"] == verifier
    assert at_call.oauth_params["oauth_token"] == request_token.key


def test_oob_pin_flow(fake: FakeFlattr) -> None:
    auth = flattr.FlattrAuth(fake.consumer.key, fake.consumer.secret, "oob", base_url=fake.base_url)
    request_token = auth.fetch_request_token()
    consent = fake.consent(auth.authorize_url(request_token), allow=True)
    assert consent.redirect_url is None
    assert consent.verifier
    access_token = auth.fetch_access_token(request_token, f"  {consent.verifier}\n")
    assert fake.requests_to("/oauth/request_token")[0].oauth_params["oauth_callback"] == "oob"
    client = flattr.FlattrClient(
        fake.consumer.key, fake.consumer.secret, access_token, base_url=fake.base_url
    )
    assert client.me().id == fake.user.id


def test_scopes_granted_on_the_consent_page_are_what_the_token_can_do(
    fake: FakeFlattr, auth: flattr.FlattrAuth
) -> None:
    request_token = auth.fetch_request_token()
    consent = fake.consent(auth.authorize_url(request_token, scopes=["read"]))
    assert consent.redirect_url is not None
    token = auth.fetch_access_token(
        request_token, auth.parse_callback(consent.redirect_url, request_token)
    )
    client = flattr.FlattrClient(
        fake.consumer.key, fake.consumer.secret, token, base_url=fake.base_url
    )
    with pytest.raises(flattr.ForbiddenError):
        client.register_thing(
            url="http://example.org/a",
            title="A title",
            category="text",
            description="Some description",
            language="en_GB",
        )


def test_authorize_url_shape_and_scope_spellings(auth: flattr.FlattrAuth) -> None:
    rt = flattr.RequestToken("abc+/=", "secret")
    url = auth.authorize_url(rt, scopes=("read", "readextended", "publish", "read", "CLICK"))
    assert url == (
        f"{auth.base_url}/oauth/authenticate?oauth_token=abc%2B%2F%3D"
        "&access_scope=read,extendedread,publish,click"
    )
    assert auth.authorize_url("tok").endswith("access_scope=read")


@pytest.mark.parametrize("scopes", [("read", "write"), ("admin",), (), ("read", 3)])
def test_unknown_scopes_are_refused_before_sending(
    fake: FakeFlattr, auth: flattr.FlattrAuth, scopes: tuple[object, ...]
) -> None:
    with pytest.raises(flattr.ValidationError) as info:
        auth.authorize_url("token", scopes=scopes)  # type: ignore[arg-type]
    assert info.value.field == "scopes"
    assert fake.requests == []


def test_denied_consent_raises_oauth_error(fake: FakeFlattr, auth: flattr.FlattrAuth) -> None:
    request_token = auth.fetch_request_token()
    consent = fake.consent(auth.authorize_url(request_token), allow=False)
    assert consent.denied
    assert consent.redirect_url is not None
    with pytest.raises(flattr.OAuthError) as info:
        auth.parse_callback(consent.redirect_url, request_token)
    assert info.value.problem == "denied"


def test_callback_for_another_request_token_is_refused(
    fake: FakeFlattr, auth: flattr.FlattrAuth
) -> None:
    mine = auth.fetch_request_token()
    other = auth.fetch_request_token()
    consent = fake.consent(auth.authorize_url(other))
    assert consent.redirect_url is not None
    before = len(fake.requests)
    with pytest.raises(flattr.OAuthError) as info:
        auth.parse_callback(consent.redirect_url, mine)
    assert info.value.problem == "token_mismatch"
    assert len(fake.requests) == before  # nothing sent


def test_callback_without_verifier(auth: flattr.FlattrAuth) -> None:
    rt = flattr.RequestToken("tok", "sec")
    with pytest.raises(flattr.OAuthError) as info:
        auth.parse_callback(f"{CALLBACK}?oauth_token=tok", rt)
    assert info.value.problem == "parameter_absent"
    assert auth.parse_callback("oauth_token=tok&oauth_verifier=v1", rt) == "v1"


def test_request_token_cannot_be_exchanged_twice(fake: FakeFlattr, auth: flattr.FlattrAuth) -> None:
    request_token = auth.fetch_request_token()
    verifier = fake.approve(request_token.key)
    auth.fetch_access_token(request_token, verifier)
    with pytest.raises(flattr.OAuthError) as info:
        auth.fetch_access_token(request_token, verifier)
    assert info.value.problem == "token_rejected"
    assert info.value.status == 401


def test_unapproved_request_token_is_refused(fake: FakeFlattr, auth: flattr.FlattrAuth) -> None:
    request_token = auth.fetch_request_token()
    with pytest.raises(flattr.OAuthError) as info:
        auth.fetch_access_token(request_token, "made-up-verifier")
    assert info.value.problem in {"permission_denied", "token_rejected"}


def test_wrong_verifier_is_refused(fake: FakeFlattr, auth: flattr.FlattrAuth) -> None:
    request_token = auth.fetch_request_token()
    fake.approve(request_token.key)
    with pytest.raises(flattr.OAuthError) as info:
        auth.fetch_access_token(request_token, "not-the-verifier")
    assert info.value.problem == "token_rejected"


def test_wrong_consumer_secret(fake: FakeFlattr) -> None:
    auth = flattr.FlattrAuth(fake.consumer.key, "wrong-secret", CALLBACK, base_url=fake.base_url)
    with pytest.raises(flattr.OAuthError) as info:
        auth.fetch_request_token()
    assert info.value.problem == "signature_invalid"
    assert "wrong-secret" not in str(info.value)


def test_unknown_consumer(fake: FakeFlattr) -> None:
    auth = flattr.FlattrAuth("nobody-knows-me", "secret", CALLBACK, base_url=fake.base_url)
    with pytest.raises(flattr.OAuthError) as info:
        auth.fetch_request_token()
    assert info.value.problem == "consumer_key_unknown"
    assert "consumer key" in str(info.value)


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (("", "secret", "oob"), "consumer_key"),
        (("key", "", "oob"), "consumer_secret"),
        (("key", "   ", "oob"), "consumer_secret"),
        (("key with space", "secret", "oob"), "consumer_key"),
        (("key", "secret", "/relative/callback"), "callback_url"),
        (("key", "secret", "ftp://example.org/cb"), "callback_url"),
        (("key", "secret", ""), "callback_url"),
        (("key", "secret", "OOB-ish"), "callback_url"),
        ((None, "secret", "oob"), "consumer_key"),
    ],
)
def test_bad_constructor_input_names_the_field(args: tuple[object, ...], field: str) -> None:
    with pytest.raises(flattr.ValidationError) as info:
        flattr.FlattrAuth(*args)  # type: ignore[arg-type]
    assert info.value.field == field
    assert isinstance(info.value, ValueError)


def test_bad_base_url_and_empty_verifier(fake: FakeFlattr, auth: flattr.FlattrAuth) -> None:
    with pytest.raises(flattr.ValidationError) as info:
        flattr.FlattrAuth("k", "s", "oob", base_url="api.flattr.com")
    assert info.value.field == "base_url"
    with pytest.raises(flattr.ValidationError) as info:
        auth.fetch_access_token(flattr.RequestToken("a", "b"), " ")
    assert info.value.field == "verifier"
    assert fake.requests == []


class _PreOneZeroAServer(BaseHTTPRequestHandler):
    """Answers every request with a token but no oauth_callback_confirmed (OAuth 1.0)."""

    def do_POST(self) -> None:
        body = b"oauth_token=t&oauth_token_secret=s"
        self.send_response(200)
        self.send_header("Content-Type", "application/x-www-form-urlencoded")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def oauth_1_0_server() -> Iterator[str]:
    # FakeFlattr always confirms the callback, so this fault needs its own server.
    server = ThreadingHTTPServer(("127.0.0.1", 0), _PreOneZeroAServer)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_unconfirmed_callback_is_refused(oauth_1_0_server: str) -> None:
    auth = flattr.FlattrAuth("key", "secret", CALLBACK, base_url=oauth_1_0_server)
    with pytest.raises(flattr.OAuthError) as info:
        auth.fetch_request_token()
    assert info.value.problem == "callback_not_confirmed"


def test_tokens_round_trip_through_json_and_hide_secrets() -> None:
    access = flattr.AccessToken("0123456789abcdef", "very-secret-value")
    again = flattr.AccessToken.from_dict(json.loads(json.dumps(access.to_dict())))
    assert again == access
    request = flattr.RequestToken("fedcba9876543210", "another-secret", True)
    assert flattr.RequestToken.from_dict(json.loads(json.dumps(request.to_dict()))) == request
    for token in (access, request):
        assert token.secret not in repr(token)
        assert token.secret not in str(token)
        assert token.key not in repr(token)  # only a prefix is shown
        assert token.key[:4] in repr(token)
    with pytest.raises(flattr.ValidationError) as info:
        flattr.AccessToken.from_dict({"key": "k"})
    assert info.value.field == "secret"


def test_repr_of_auth_hides_the_secret(fake: FakeFlattr) -> None:
    auth = flattr.FlattrAuth(fake.consumer.key, fake.consumer.secret, "oob", base_url=fake.base_url)
    assert fake.consumer.secret not in repr(auth)
    assert fake.consumer.key not in repr(auth)
    assert fake.base_url in repr(auth)


@pytest.mark.parametrize(
    "make_token",
    [
        lambda key, secret: flattr.AccessToken(key, secret),
        lambda key, secret: SimpleNamespace(key=key, secret=secret),  # e.g. an oauth2.Token
        lambda key, secret: (key, secret),
        lambda key, secret: [key, secret],
    ],
    ids=["AccessToken", "key-secret-object", "tuple", "list"],
)
def test_client_accepts_every_token_shape(fake: FakeFlattr, make_token) -> None:  # type: ignore[no-untyped-def]
    issued = fake.issue_access_token()
    client = flattr.FlattrClient(
        fake.consumer.key,
        fake.consumer.secret,
        make_token(issued.key, issued.secret),
        base_url=fake.base_url,
    )
    assert client.me().username == "alice"
    assert issued.secret not in repr(client)


@pytest.mark.parametrize(
    "token",
    [None, "just-a-string", ("only-one",), ("k", ""), SimpleNamespace(key="k")],
)
def test_client_refuses_malformed_tokens(fake: FakeFlattr, token: object) -> None:
    with pytest.raises(flattr.ValidationError) as info:
        flattr.FlattrClient("key", "secret", token, base_url=fake.base_url)
    assert info.value.field.startswith("access_token")


def test_auth_is_a_context_manager_and_stays_usable(fake: FakeFlattr) -> None:
    with flattr.FlattrAuth(
        fake.consumer.key, fake.consumer.secret, "oob", base_url=fake.base_url
    ) as auth:
        first = auth.fetch_request_token()
    # close() only drops idle connections: the next call opens a new one
    second = auth.fetch_request_token()
    assert first.key != second.key
    auth.close()
    assert fake.connections_opened == 2
