"""v2.FlattrAuth: the authorize URL, reading the callback, and the token answer's variants."""

from __future__ import annotations

import json
from typing import Any

import pytest

from flattr import v2
from flattr.errors import AuthenticationError, OAuthError, ServerError, ValidationError

from .kit import Answer, Seen, error, ok, serving


def test_the_authorize_url_is_exactly_as_pinned() -> None:
    auth = v2.FlattrAuth("cid", "secret", "https://app.example/cb", base_url="https://flattr.com")
    assert auth.authorize_url(scopes=("flattr", "thing"), state="s1") == (
        "https://flattr.com/oauth/authorize?response_type=code&client_id=cid"
        "&redirect_uri=https%3A%2F%2Fapp.example%2Fcb&scope=flattr+thing&state=s1"
    )
    # no redirect URI, no scopes, no state: only what was given
    bare = v2.FlattrAuth("cid", "secret", None)
    assert (
        bare.authorize_url()
        == "https://flattr.com/oauth/authorize?response_type=code&client_id=cid"
    )


@pytest.mark.parametrize(
    ("scopes", "hint"),
    [
        (("read",), "0.0.1"),
        (("click",), "'flattr'"),
        (("publish",), "'thing'"),
        (("bogus",), "choose"),
    ],
)
def test_unknown_and_old_scopes_are_refused(scopes: tuple[str, ...], hint: str) -> None:
    auth = v2.FlattrAuth("cid", "secret", None)
    with pytest.raises(ValidationError, match=hint) as caught:
        auth.authorize_url(scopes=scopes)
    assert caught.value.field == "scopes"


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"client_id": ""}, "client_id"),
        ({"client_id": "a:b"}, "client_id"),
        ({"client_secret": " "}, "client_secret"),
        ({"redirect_uri": "ftp://x/"}, "redirect_uri"),
        ({"redirect_uri": "https://x/#frag"}, "redirect_uri"),
        ({"base_url": "flattr.com"}, "base_url"),
    ],
)
def test_constructor_checks(kwargs: dict[str, Any], field: str) -> None:
    args = {"client_id": "cid", "client_secret": "secret", "redirect_uri": None, **kwargs}
    base = args.pop("base_url", "https://flattr.com")
    with pytest.raises(ValidationError) as caught:
        v2.FlattrAuth(args["client_id"], args["client_secret"], args["redirect_uri"], base_url=base)
    assert caught.value.field == field


def test_parse_callback() -> None:
    auth = v2.FlattrAuth("cid", "secret", "https://app.example/cb")
    assert auth.parse_callback("https://app.example/cb?code=abc&state=s1", state="s1") == "abc"
    assert auth.parse_callback("code=abc") == "abc"
    with pytest.raises(OAuthError) as denied:
        auth.parse_callback(
            "https://app.example/cb?error=access_denied&error_description=No&state=s1", state="s1"
        )
    assert denied.value.problem == "access_denied" and "No" in str(denied.value)
    with pytest.raises(OAuthError) as mismatch:
        auth.parse_callback("https://app.example/cb?code=abc&state=s2", state="s1")
    assert mismatch.value.problem == "state_mismatch"
    with pytest.raises(OAuthError) as missing:
        auth.parse_callback("https://app.example/cb?code=abc", state="s1")
    assert missing.value.problem == "state_mismatch"
    # Flattr stopped echoing state in 2016: allowed only when asked for
    assert (
        auth.parse_callback("https://app.example/cb?code=abc", state="s1", allow_missing_state=True)
        == "abc"
    )
    with pytest.raises(OAuthError) as no_code:
        auth.parse_callback("https://app.example/cb?state=s1", state="s1")
    assert no_code.value.problem == "missing_code"


def _token_route(answer: Answer) -> Any:
    return {("POST", "/oauth/token"): lambda seen: answer}


@pytest.mark.parametrize(
    ("body", "expected_scopes", "token_type"),
    [
        (
            {"access_token": "tok", "token_type": "bearer", "scope": "flattr email"},
            ("flattr", "email"),
            "bearer",
        ),
        ({"access_token": "tok", "token_type": "Bearer"}, ("thing",), "Bearer"),
        (
            {"access_token": "tok", "token_type": "BEARER", "scope": "flattr,thing"},
            ("flattr", "thing"),
            "BEARER",
        ),
    ],
)
def test_token_answers(
    body: dict[str, str], expected_scopes: tuple[str, ...], token_type: str
) -> None:
    with serving(_token_route(ok(json.dumps(body).encode()))) as server:
        auth = v2.FlattrAuth("cid", "secret", None, base_url=server.base_url)
        auth.authorize_url(scopes=("thing",))
        token = auth.fetch_token("code")
        assert token == v2.AccessToken("tok", expected_scopes, token_type)
        assert "redirect_uri" not in server.seen[0].body.decode()
        assert v2.AccessToken.from_dict(token.to_dict()) == token


def test_scopes_passed_to_fetch_token_win_when_the_answer_names_none() -> None:
    body = b'{"access_token": "tok", "token_type": "bearer"}'
    with serving(_token_route(ok(body))) as server:
        auth = v2.FlattrAuth("cid", "secret", None, base_url=server.base_url)
        assert auth.fetch_token("code", scopes=("flattr",)).scopes == ("flattr",)


@pytest.mark.parametrize(
    ("answer", "problem", "status"),
    [
        (error(400, "invalid_grant", "used"), "invalid_grant", 400),
        (error(401, "invalid_client", "who?"), "invalid_client", 401),
        (error(400, "unsupported_grant_type", "no"), "unsupported_grant_type", 400),
        (ok(b'{"token_type": "bearer"}'), "invalid_response", None),
        (ok(b'{"access_token": "t", "token_type": "mac"}'), "unsupported_token_type", None),
    ],
)
def test_token_errors_are_oauth_errors(answer: Answer, problem: str, status: int | None) -> None:
    with serving(_token_route(answer)) as server:
        auth = v2.FlattrAuth("cid", "secret", None, base_url=server.base_url)
        with pytest.raises(OAuthError) as caught:
            auth.fetch_token("code")
        assert caught.value.problem == problem and caught.value.status == status
        assert len(server.seen) == 1


@pytest.mark.parametrize(
    ("answer", "expected"),
    [((502, {}, b""), ServerError), ((401, {}, b""), AuthenticationError)],
)
def test_token_failures_without_a_json_body(answer: Answer, expected: type) -> None:
    with serving(_token_route(answer)) as server:
        auth = v2.FlattrAuth("cid", "secret", None, base_url=server.base_url)
        with pytest.raises(expected):
            auth.fetch_token("code")
        assert len(server.seen) == 1  # never retried, not even a 502


def test_an_empty_code_sends_nothing() -> None:
    def fail(seen: Seen) -> Answer:
        raise AssertionError("nothing should be sent")

    with serving({("POST", "/oauth/token"): fail}) as server:
        auth = v2.FlattrAuth("cid", "secret", None, base_url=server.base_url)
        with pytest.raises(ValidationError):
            auth.fetch_token("  ")
        assert server.seen == []


def test_clear_text_http_only_to_loopback_unless_allowed() -> None:
    with pytest.raises(ValidationError) as client_error:
        v2.FlattrClient("tok-0123456789", base_url="http://api.flattr.example")
    assert client_error.value.field == "base_url"
    with pytest.raises(ValidationError) as auth_error:
        v2.FlattrAuth("cid", "secret", None, base_url="http://flattr.example")
    assert auth_error.value.field == "base_url"
    allowed = v2.FlattrClient(
        "tok-0123456789", base_url="http://api.flattr.example", allow_cleartext_http=True
    )
    assert allowed.base_url == "http://api.flattr.example"
    assert v2.FlattrClient(None, base_url="http://127.0.0.1:8080").base_url.startswith("http://")
