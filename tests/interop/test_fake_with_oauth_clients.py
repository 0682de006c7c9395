"""FakeFlattr driven by OAuth 1.0a clients this project did not write.

requests-oauthlib and authlib each run the whole flow and read ``user/me``,
and each is refused with the right ``oauth_problem`` for a wrong secret, a
reused nonce and a timestamp an hour off.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from authlib.integrations.requests_client import OAuth1Session as AuthlibSession
from authlib.oauth1.rfc5849 import client_auth as authlib_client_auth
from requests_oauthlib import OAuth1Session

from flattr.testing import FakeFlattr

from .kit_problems import oauth_problem

CALLBACK = "http://127.0.0.1:9/callback"
ME = "/rest/0.0.1/user/me"
HOUR = 3600


def closing(session: requests.Session) -> requests.Session:
    session.trust_env = False  # loopback only: no proxy from the environment
    return session


@pytest.fixture
def sessions() -> Iterator[list[requests.Session]]:
    made: list[requests.Session] = []
    yield made
    for session in made:
        session.close()


def problem_of(response: requests.Response) -> str | None:
    return oauth_problem(response.headers, response.content)


# -- requests-oauthlib -------------------------------------------------------------


def oauthlib_session(sessions: list[requests.Session], *args: Any, **kwargs: Any) -> OAuth1Session:
    session = closing(OAuth1Session(*args, **kwargs))
    sessions.append(session)
    return session


def test_requests_oauthlib_full_flow(fake: FakeFlattr, sessions: list[requests.Session]) -> None:
    key, secret, base = fake.consumer.key, fake.consumer.secret, fake.base_url
    first = oauthlib_session(sessions, key, client_secret=secret, callback_uri=CALLBACK)
    request_token = first.fetch_request_token(f"{base}/oauth/request_token")
    assert request_token["oauth_callback_confirmed"] == "true"
    url = first.authorization_url(f"{base}/oauth/authenticate", access_scope="read,publish")
    consent = fake.consent(url)
    assert consent.redirect_url is not None
    second = oauthlib_session(
        sessions,
        key,
        client_secret=secret,
        resource_owner_key=request_token["oauth_token"],
        resource_owner_secret=request_token["oauth_token_secret"],
    )
    second.parse_authorization_response(consent.redirect_url)
    access = second.fetch_access_token(f"{base}/oauth/access_token")
    api = oauthlib_session(
        sessions, key, secret, access["oauth_token"], access["oauth_token_secret"]
    )
    answer = api.get(f"{base}{ME}")
    assert answer.status_code == 200
    assert b"alice" in answer.content
    assert [r.status for r in fake.requests_to("/oauth/")] == [200, 200, 302, 200]


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"client_secret": "not-the-secret"}, "signature_invalid"),
        ({"resource_owner_secret": "not-the-token-secret"}, "signature_invalid"),
        ({"timestamp_offset": -HOUR}, "timestamp_refused"),
        ({"timestamp_offset": +HOUR}, "timestamp_refused"),
    ],
    ids=["consumer-secret", "token-secret", "timestamp-past", "timestamp-future"],
)
def test_requests_oauthlib_is_refused_with_the_right_problem(
    fake: FakeFlattr, sessions: list[requests.Session], change: dict[str, Any], problem: str
) -> None:
    token = fake.issue_access_token()
    options: dict[str, Any] = {
        "client_secret": fake.consumer.secret,
        "resource_owner_key": token.key,
        "resource_owner_secret": token.secret,
    }
    offset = change.pop("timestamp_offset", None)
    options.update(change)
    if offset is not None:
        options["timestamp"] = str(int(time.time()) + offset)
    api = oauthlib_session(sessions, fake.consumer.key, **options)
    answer = api.get(f"{fake.base_url}{ME}")
    assert answer.status_code == 401
    assert problem_of(answer) == problem


def test_requests_oauthlib_reusing_a_nonce_is_refused(
    fake: FakeFlattr, sessions: list[requests.Session]
) -> None:
    token = fake.issue_access_token()
    api = oauthlib_session(
        sessions,
        fake.consumer.key,
        fake.consumer.secret,
        token.key,
        token.secret,
        nonce="requestsOauthlibNonce42",
        timestamp=str(int(time.time())),
    )
    assert api.get(f"{fake.base_url}{ME}").status_code == 200
    again = api.get(f"{fake.base_url}{ME}")
    assert again.status_code == 401
    assert problem_of(again) == "nonce_used"


# -- authlib -----------------------------------------------------------------------


def authlib_session(sessions: list[requests.Session], *args: Any, **kwargs: Any) -> AuthlibSession:
    session = closing(AuthlibSession(*args, **kwargs))
    sessions.append(session)
    return session


def test_authlib_full_flow(fake: FakeFlattr, sessions: list[requests.Session]) -> None:
    key, secret, base = fake.consumer.key, fake.consumer.secret, fake.base_url
    client = authlib_session(sessions, key, secret, redirect_uri=CALLBACK)
    request_token = client.fetch_request_token(f"{base}/oauth/request_token")
    assert request_token["oauth_callback_confirmed"] == "true"
    url = client.create_authorization_url(f"{base}/oauth/authenticate", access_scope="read")
    consent = fake.consent(url)
    assert consent.redirect_url is not None
    client.parse_authorization_response(consent.redirect_url)
    access = client.fetch_access_token(f"{base}/oauth/access_token")
    api = authlib_session(
        sessions,
        key,
        secret,
        token=access["oauth_token"],
        token_secret=access["oauth_token_secret"],
    )
    answer = api.get(f"{base}{ME}")
    assert answer.status_code == 200
    assert b"alice" in answer.content
    assert [r.status for r in fake.requests_to("/oauth/")] == [200, 200, 302, 200]


@pytest.mark.parametrize(
    ("secret_ok", "token_secret_ok", "offset", "problem"),
    [
        (False, True, 0, "signature_invalid"),
        (True, False, 0, "signature_invalid"),
        (True, True, -HOUR, "timestamp_refused"),
        (True, True, +HOUR, "timestamp_refused"),
    ],
    ids=["consumer-secret", "token-secret", "timestamp-past", "timestamp-future"],
)
def test_authlib_is_refused_with_the_right_problem(
    fake: FakeFlattr,
    sessions: list[requests.Session],
    monkeypatch: pytest.MonkeyPatch,
    secret_ok: bool,
    token_secret_ok: bool,
    offset: int,
    problem: str,
) -> None:
    token = fake.issue_access_token()
    if offset:
        # authlib has no option for the timestamp: set its clock, as a skewed machine would.
        stamp = str(int(time.time()) + offset)
        monkeypatch.setattr(authlib_client_auth, "generate_timestamp", lambda: stamp)
    api = authlib_session(
        sessions,
        fake.consumer.key,
        fake.consumer.secret if secret_ok else "not-the-secret",
        token=token.key,
        token_secret=token.secret if token_secret_ok else "not-the-token-secret",
    )
    answer = api.get(f"{fake.base_url}{ME}")
    assert answer.status_code == 401
    assert problem_of(answer) == problem


def test_authlib_reusing_a_nonce_is_refused(
    fake: FakeFlattr, sessions: list[requests.Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    # authlib draws a fresh nonce per request; a client whose generator repeats is the fault.
    monkeypatch.setattr(authlib_client_auth, "generate_nonce", lambda: "authlibRepeatedNonce7")
    token = fake.issue_access_token()
    api = authlib_session(
        sessions,
        fake.consumer.key,
        fake.consumer.secret,
        token=token.key,
        token_secret=token.secret,
    )
    assert api.get(f"{fake.base_url}{ME}").status_code == 200
    again = api.get(f"{fake.base_url}{ME}")
    assert again.status_code == 401
    assert problem_of(again) == "nonce_used"
