"""Hostile arguments: each public method refuses them with a ValidationError, before any I/O.

Lone surrogates, integers too big to print, values of megabytes, ``.`` and
``..`` as path segments, and base URLs that urlsplit would quietly repair or
that would carry the token in clear text. Every case runs against a live
FakeFlattr and asserts that it saw no request at all.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

import flattr
from flattr import _validate
from flattr.testing import FakeFlattr

SURROGATE = "abc\ud800def"
HUGE = "a" * 10_000_000  # 10 MB
HUGE_INT = 10**5000  # str() of it raises ValueError (over 4,300 digits)
LONGEST_MESSAGE = 300

Call = Callable[[], object]


def thing_fields(**override: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "url": "http://blog.example.org/post",
        "title": "Hello Flattr",
        "category": "text",
        "description": "My first post.",
        "language": "en_GB",
        "tags": ("a",),
    }
    fields.update(override)
    return fields


def client_cases(api: flattr.FlattrClient) -> list[tuple[str, Call, str]]:
    """(case id, call, field) for every FlattrClient method that takes an argument."""
    cases: list[tuple[str, Call, str]] = []
    for label, bad in (("surrogate", SURROGATE), ("10MB", HUGE), ("dot", "."), ("dotdot", "..")):
        cases += [
            (f"user-name-{label}", lambda b=bad: api.user(name=b), "name"),
            (f"thing-{label}", lambda b=bad: api.thing(b), "thing_id"),
            (f"click-{label}", lambda b=bad: api.click(b), "thing_id"),
            (f"search-{label}", lambda b=bad: api.search(b), "query"),
            (f"browse-query-{label}", lambda b=bad: api.browse(query=b), "query"),
            (f"browse-tags-{label}", lambda b=bad: api.browse(tags=[b]), "tags"),
            (f"browse-users-{label}", lambda b=bad: api.browse(users=[b]), "name"),
        ]
    for label, bad in (("surrogate", SURROGATE), ("10MB", HUGE)):
        cases += [
            (f"thing_by_url-{label}", lambda b=bad: api.thing_by_url(f"http://x.org/{b}"), "url"),
            (f"browse-category-{label}", lambda b=bad: api.browse(categories=[b]), "category"),
            (f"browse-language-{label}", lambda b=bad: api.browse(languages=[b]), "language"),
        ]
        for name in ("url", "title", "category", "description", "language"):
            value = f"http://x.org/{bad}" if name == "url" else bad
            cases.append(
                (
                    f"register-{name}-{label}",
                    lambda n=name, v=value: api.register_thing(**thing_fields(**{n: v})),
                    name,
                )
            )
        cases.append(
            (
                f"register-tags-{label}",
                lambda b=bad: api.register_thing(**thing_fields(tags=[b])),
                "tags",
            )
        )
    cases += [
        ("user-id-huge", lambda: api.user(id=HUGE_INT), "id"),
        ("thing-huge-int", lambda: api.thing(HUGE_INT), "thing_id"),
        ("click-huge-int", lambda: api.click(HUGE_INT), "thing_id"),
        ("things-huge-int", lambda: api.things(HUGE_INT), "user_id"),
        ("browse-users-huge-int", lambda: api.browse(users=[HUGE_INT]), "id"),
        ("thing-21-digits", lambda: api.thing(10**20), "thing_id"),
        ("register-dot-tag", lambda: api.register_thing(**thing_fields(tags=[".."])), "tags"),
    ]
    return cases


def auth_cases(fake: FakeFlattr) -> list[tuple[str, Call, str]]:
    """(case id, call, field) for every FlattrAuth method that takes an argument."""
    auth = flattr.FlattrAuth(fake.consumer.key, fake.consumer.secret, "oob", base_url=fake.base_url)
    good = flattr.RequestToken("requestkey123", "requestsecret", True)
    cases: list[tuple[str, Call, str]] = []
    for label, bad in (("surrogate", SURROGATE), ("10MB", HUGE)):
        token_bad_key = flattr.RequestToken(bad, "requestsecret", True)
        token_bad_secret = flattr.RequestToken("requestkey123", bad, True)
        cases += [
            (
                f"authorize_url-key-{label}",
                lambda t=token_bad_key: auth.authorize_url(t),
                "request_token.key",
            ),
            (f"authorize_url-scope-{label}", lambda b=bad: auth.authorize_url(good, [b]), "scopes"),
            (
                f"parse_callback-url-{label}",
                lambda b=bad: auth.parse_callback(f"?oauth_token={b}", good),
                "redirect_url",
            ),
            (
                f"parse_callback-token-{label}",
                lambda t=token_bad_key: auth.parse_callback("?oauth_token=x&oauth_verifier=v", t),
                "request_token.key",
            ),
            (
                f"fetch_access_token-key-{label}",
                lambda t=token_bad_key: auth.fetch_access_token(t, "v"),
                "request_token.key",
            ),
            (
                f"fetch_access_token-secret-{label}",
                lambda t=token_bad_secret: auth.fetch_access_token(t, "v"),
                "request_token.secret",
            ),
            (
                f"fetch_access_token-verifier-{label}",
                lambda b=bad: auth.fetch_access_token(good, b),
                "verifier",
            ),
        ]
    return cases


def constructor_cases(fake: FakeFlattr) -> list[tuple[str, Call, str]]:
    key, secret, url = fake.consumer.key, fake.consumer.secret, fake.base_url
    token = ("tokenkey123", "tokensecret")
    cases: list[tuple[str, Call, str]] = []
    for label, bad in (("surrogate", SURROGATE), ("10MB", HUGE)):
        cases += [
            (
                f"client-consumer_key-{label}",
                lambda b=bad: flattr.FlattrClient(b, secret, token, base_url=url),
                "consumer_key",
            ),
            (
                f"client-consumer_secret-{label}",
                lambda b=bad: flattr.FlattrClient(key, b, token, base_url=url),
                "consumer_secret",
            ),
            (
                f"client-token-key-{label}",
                lambda b=bad: flattr.FlattrClient(key, secret, (b, "s"), base_url=url),
                "access_token.key",
            ),
            (
                f"client-token-secret-{label}",
                lambda b=bad: flattr.FlattrClient(key, secret, ("k", b), base_url=url),
                "access_token.secret",
            ),
            (
                f"auth-consumer_key-{label}",
                lambda b=bad: flattr.FlattrAuth(b, secret, "oob", base_url=url),
                "consumer_key",
            ),
            (
                f"auth-consumer_secret-{label}",
                lambda b=bad: flattr.FlattrAuth(key, b, "oob", base_url=url),
                "consumer_secret",
            ),
            (
                f"auth-callback-{label}",
                lambda b=bad: flattr.FlattrAuth(key, secret, f"http://127.0.0.1/{b}", base_url=url),
                "callback_url",
            ),
        ]
    return cases


BAD_BASE_URLS = {
    "crlf": "http://127.0.0.1:8080\r\nX-Injected: 1",
    "lf-in-host": "http://127.0.\n0.1:8080",
    "tab": "http://127.0.0.1:80\t80",
    "space": "http://127.0.0.1:8080/ rest",
    "leading-space": " https://api.flattr.com",
    "port-too-big": "http://127.0.0.1:99999",
    "port-not-a-number": "http://127.0.0.1:80a",
    "port-zero": "http://127.0.0.1:0",
    "surrogate": "https://api.flattr.com/\ud800",
    "10MB": "https://api.flattr.com/" + HUGE,
    "http-to-another-host": "http://api.flattr.com",
    "http-to-a-private-address": "http://192.168.1.10:8080",
    "http-to-a-mapped-private-address": "http://[::ffff:10.0.0.1]:8080",
    "http-to-localhost-lookalike": "http://localhost.example.org",
}


def check_refused(fake: FakeFlattr, call: Call, field: str) -> None:
    fake.clear_requests()
    with pytest.raises(flattr.ValidationError) as caught:
        call()
    assert caught.value.field == field, str(caught.value)[:LONGEST_MESSAGE]
    assert len(str(caught.value)) < LONGEST_MESSAGE
    assert fake.requests == []


@pytest.fixture
def checked_client(fake: FakeFlattr) -> flattr.FlattrClient:
    token = fake.issue_access_token(scopes=("read", "click", "publish"))
    return flattr.FlattrClient(
        fake.consumer.key, fake.consumer.secret, token, base_url=fake.base_url
    )


def test_every_client_method_refuses_hostile_arguments_before_sending(
    fake: FakeFlattr, checked_client: flattr.FlattrClient
) -> None:
    # me(), categories() and languages() take no argument: their inputs are the constructor's.
    failures = []
    for case, call, field in client_cases(checked_client):
        try:
            check_refused(fake, call, field)
        except (AssertionError, pytest.fail.Exception, Exception) as exc:
            failures.append(f"{case}: {type(exc).__name__}: {str(exc)[:120]}")
    assert failures == []
    checked_client.close()


def test_every_auth_method_refuses_hostile_arguments_before_sending(fake: FakeFlattr) -> None:
    # fetch_request_token() takes no argument: its inputs are the constructor's.
    failures = []
    for case, call, field in auth_cases(fake) + constructor_cases(fake):
        try:
            check_refused(fake, call, field)
        except (AssertionError, pytest.fail.Exception, Exception) as exc:
            failures.append(f"{case}: {type(exc).__name__}: {str(exc)[:120]}")
    assert failures == []


@pytest.mark.parametrize("url", BAD_BASE_URLS.values(), ids=BAD_BASE_URLS.keys())
@pytest.mark.parametrize("which", ["client", "auth"])
def test_bad_base_urls_are_refused_at_construction(fake: FakeFlattr, which: str, url: str) -> None:
    key, secret = fake.consumer.key, fake.consumer.secret

    def build() -> object:
        if which == "client":
            return flattr.FlattrClient(key, secret, ("k", "s"), base_url=url)
        return flattr.FlattrAuth(key, secret, "oob", base_url=url)

    check_refused(fake, build, "base_url")


def test_insecure_http_refusal_names_the_way_out(fake: FakeFlattr) -> None:
    with pytest.raises(flattr.ValidationError, match="allow_cleartext_http=True") as caught:
        flattr.FlattrClient("k", "s", ("k", "s"), base_url="http://api.flattr.com")
    assert "clear text" in str(caught.value)
    # Opting in by name is allowed (nothing is sent by constructing it).
    client = flattr.FlattrClient(
        "k", "s", ("k", "s"), base_url="http://api.flattr.com/", allow_cleartext_http=True
    )
    assert client.base_url == "http://api.flattr.com"
    auth = flattr.FlattrAuth(
        "k", "s", "oob", base_url="http://api.flattr.com", allow_cleartext_http=True
    )
    assert auth.base_url == "http://api.flattr.com"
    assert fake.requests == []


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080",
        "http://127.8.9.10:8080/",
        "http://localhost:8080",
        "http://LOCALHOST.:8080",
        "http://[::1]:8080",
        "http://[::ffff:127.0.0.1]:8080",
        "https://api.flattr.com:443/",
    ],
)
def test_loopback_http_and_https_stay_allowed(url: str) -> None:
    assert flattr.FlattrClient("k", "s", ("k", "s"), base_url=url).base_url == url.rstrip("/")


def test_loopback_http_works_end_to_end(client: flattr.FlattrClient) -> None:
    assert client.base_url.startswith("http://127.0.0.1:")
    assert client.me().username == "alice"


def test_the_longest_values_are_accepted_and_sent(
    fake: FakeFlattr, checked_client: flattr.FlattrClient
) -> None:
    fake.clear_requests()
    with pytest.raises(flattr.NotFoundError):
        checked_client.thing("f" * _validate.MAX_ID_LENGTH)
    with pytest.raises(flattr.NotFoundError):
        checked_client.user(name="n" * _validate.MAX_NAME_LENGTH)
    assert checked_client.search("q" * _validate.MAX_QUERY_LENGTH) == ()
    with pytest.raises(flattr.NotFoundError):
        checked_client.thing(10**_validate.MAX_ID_DIGITS - 1)
    assert len(fake.requests) == 4
    checked_client.close()


def test_a_pasted_callback_url_may_end_in_a_line_break(fake: FakeFlattr) -> None:
    auth = flattr.FlattrAuth("k", "s", "oob", base_url=fake.base_url)
    token = flattr.RequestToken("requestkey123", "requestsecret", True)
    pasted = "http://127.0.0.1:9/callback?oauth_token=requestkey123&oauth_verifier=v1\r\n"
    assert auth.parse_callback(pasted, token) == "v1"
    with pytest.raises(flattr.ValidationError) as caught:
        auth.parse_callback("?oauth_token=requestkey123\n&oauth_verifier=v1", token)
    assert caught.value.field == "redirect_url"
