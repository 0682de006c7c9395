"""The fake's OAuth 2 provider, driven by requests-oauthlib (an OAuth 2 client not ours)."""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests
from oauthlib.oauth2.rfc6749.errors import (
    InvalidClientError,
    InvalidGrantError,
    MismatchingStateError,
)
from requests_oauthlib import OAuth2Session

from flattr.testing import ConsentError, FakeFlattr, OAuth2Client

from .kit_v2 import assert_error, v2_api

CALLBACK = "https://127.0.0.1/flattr/callback"


@pytest.fixture
def tls_fake() -> Iterator[FakeFlattr]:
    """Over HTTPS, so oauthlib's secure-transport checks apply unchanged."""
    with FakeFlattr(tls=True) as fake:
        yield fake


def session_for(fake: FakeFlattr, scopes: list[str], state: str | None = None) -> OAuth2Session:
    client = fake.oauth2_client
    return OAuth2Session(
        client.client_id, redirect_uri=client.redirect_uri, scope=scopes, state=state
    )


def authorize_url(fake: FakeFlattr, **params: str) -> str:
    return f"{fake.base_url}/oauth/authorize?{urlencode(params)}"


def token_post(
    fake: FakeFlattr,
    data: dict[str, str],
    *,
    auth: tuple[str, str] | None = None,
    json_body: bool = False,
) -> requests.Response:
    with requests.Session() as s:
        kwargs: dict[str, object] = {"json": data} if json_body else {"data": data}
        return s.post(
            f"{fake.base_url}/oauth/token", auth=auth, timeout=10, verify=fake.ca_bundle, **kwargs
        )


def code_for(fake: FakeFlattr, client: OAuth2Client | None = None, scope: str = "flattr") -> str:
    app = client or fake.oauth2_client
    params = {"response_type": "code", "client_id": app.client_id, "scope": scope}
    if app.redirect_uri:
        params["redirect_uri"] = app.redirect_uri
    consent = fake.consent_v2(authorize_url(fake, **params))
    assert consent.code is not None
    return consent.code


def basic(fake: FakeFlattr) -> tuple[str, str]:
    return fake.oauth2_client.client_id, fake.oauth2_client.client_secret


# -- the whole flow with OAuth2Session ----------------------------------------


def test_oauth2session_authorize_consent_token_and_a_rest_call(tls_fake: FakeFlattr) -> None:
    fake = tls_fake
    oauth = session_for(fake, ["flattr", "thing", "email"])
    with oauth:
        url, state = oauth.authorization_url(f"{fake.base_url}/oauth/authorize")
        consent = fake.consent_v2(url)
        assert consent.error is None and consent.state == state
        assert consent.redirect_url is not None and consent.redirect_url.startswith(CALLBACK)
        token = oauth.fetch_token(
            f"{fake.base_url}/oauth/token",
            authorization_response=consent.redirect_url,
            client_secret=fake.oauth2_client.client_secret,
            verify=fake.ca_bundle,
        )
        assert token["token_type"] == "bearer"
        assert re.fullmatch(r"[0-9a-f]{40}", token["access_token"])
        assert token["scope"] == ["flattr", "thing", "email"]
        me = oauth.get(f"{fake.base_url}/rest/v2/user", verify=fake.ca_bundle, timeout=10)
    assert me.status_code == 200
    assert me.json()["username"] == "alice"
    assert me.json()["email"] == "alice@example.org"
    # Basic client authentication, as the docs describe: the secret is not in the body.
    token_request = fake.requests_to("/oauth/token")[-1]
    assert (token_request.header("Authorization") or "").startswith("Basic ")
    assert fake.oauth2_client.client_secret.encode() not in token_request.body


def test_oauth2session_refused_with_a_wrong_secret(tls_fake: FakeFlattr) -> None:
    oauth = session_for(tls_fake, ["flattr"])
    with oauth:
        url, _ = oauth.authorization_url(f"{tls_fake.base_url}/oauth/authorize")
        consent = tls_fake.consent_v2(url)
        assert consent.redirect_url is not None
        with pytest.raises(InvalidClientError):
            oauth.fetch_token(
                f"{tls_fake.base_url}/oauth/token",
                authorization_response=consent.redirect_url,
                client_secret="not-the-secret",
                verify=tls_fake.ca_bundle,
            )


def test_oauth2session_refused_when_the_code_is_reused_and_its_token_is_revoked(
    tls_fake: FakeFlattr,
) -> None:
    fake = tls_fake
    oauth = session_for(fake, ["flattr"])
    with oauth:
        url, _ = oauth.authorization_url(f"{fake.base_url}/oauth/authorize")
        consent = fake.consent_v2(url)
        assert consent.redirect_url is not None
        args = {
            "authorization_response": consent.redirect_url,
            "client_secret": fake.oauth2_client.client_secret,
            "verify": fake.ca_bundle,
        }
        first = oauth.fetch_token(f"{fake.base_url}/oauth/token", **args)
        with pytest.raises(InvalidGrantError):
            oauth.fetch_token(f"{fake.base_url}/oauth/token", **args)
    with v2_api(fake, first["access_token"]) as api:
        assert_error(api.get("/user"), 401, "unauthorized")


def test_oauth2session_refused_when_the_redirect_uri_differs(tls_fake: FakeFlattr) -> None:
    fake = tls_fake
    oauth = session_for(fake, ["flattr"])
    with oauth:
        url, _ = oauth.authorization_url(f"{fake.base_url}/oauth/authorize")
        code = fake.consent_v2(url).code
        oauth.redirect_uri = "https://127.0.0.1/elsewhere"
        with pytest.raises(InvalidGrantError):
            oauth.fetch_token(
                f"{fake.base_url}/oauth/token",
                code=code,
                client_secret=fake.oauth2_client.client_secret,
                verify=fake.ca_bundle,
            )


def test_oauth2session_sees_a_state_mismatch(tls_fake: FakeFlattr) -> None:
    fake = tls_fake
    oauth = session_for(fake, ["flattr"], state="mine")
    with oauth:
        url, _ = oauth.authorization_url(f"{fake.base_url}/oauth/authorize", state="other")
        consent = fake.consent_v2(url)
        assert consent.state == "other"
        oauth._state = "mine"
        assert consent.redirect_url is not None
        with pytest.raises(MismatchingStateError):
            oauth.fetch_token(
                f"{fake.base_url}/oauth/token",
                authorization_response=consent.redirect_url,
                client_secret=fake.oauth2_client.client_secret,
                verify=fake.ca_bundle,
            )


# -- authorize: the consent page and its refusals ------------------------------


def test_consent_page_names_the_app_the_user_and_the_scopes(fake: FakeFlattr) -> None:
    app = fake.add_oauth2_client(name="Podcast <app>", redirect_uri=CALLBACK)
    url = authorize_url(
        fake, response_type="code", client_id=app.client_id, scope="flattr thing", state="s1"
    )
    with requests.Session() as s:
        page = s.get(url, timeout=10)
    assert page.status_code == 200
    assert "Podcast &lt;app&gt;" in page.text
    assert '<strong id="username">alice</strong>' in page.text
    assert "Flattr things" in page.text and "Create, update and delete things" in page.text
    assert page.headers["Cache-Control"] == "no-store"


def test_deny_redirects_with_access_denied_and_the_state(fake: FakeFlattr) -> None:
    client = fake.oauth2_client
    url = authorize_url(fake, response_type="code", client_id=client.client_id, state="s1")
    consent = fake.consent_v2(url, allow=False)
    assert consent.error == "access_denied" and consent.state == "s1" and consent.code is None
    assert consent.redirect_url is not None and consent.redirect_url.startswith(CALLBACK + "?")


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({"response_type": "code", "scope": "read"}, "invalid_scope"),
        ({"response_type": "code", "scope": "flattr,click"}, "invalid_scope"),
        ({"response_type": "password"}, "unsupported_response_type"),
        ({}, "unsupported_response_type"),
    ],
)
def test_authorize_refusals_come_back_on_the_redirect(
    fake: FakeFlattr, params: dict[str, str], error: str
) -> None:
    url = authorize_url(fake, client_id=fake.oauth2_client.client_id, state="s9", **params)
    consent = fake.consent_v2(url)
    assert consent.error == error and consent.state == "s9" and consent.code is None


@pytest.mark.parametrize(
    "raw", ["flattr%20thing", "flattr+thing", "flattr,thing", "flattr%2Cthing"]
)
def test_scopes_split_on_space_plus_and_comma(fake: FakeFlattr, raw: str) -> None:
    query = f"response_type=code&client_id={fake.oauth2_client.client_id}&scope={raw}"
    code = fake.consent_v2(f"{fake.base_url}/oauth/authorize?{query}").code
    assert code is not None
    reply = token_post(fake, {"code": code, "grant_type": "authorization_code"}, auth=basic(fake))
    assert reply.json()["scope"] == "flattr thing"


@pytest.mark.parametrize(
    "change",
    [
        {"client_id": "nobody"},
        {"client_id": None},
        {"redirect_uri": "https://127.0.0.1/other"},
    ],
)
def test_unknown_client_or_redirect_mismatch_is_a_page_not_a_redirect(
    fake: FakeFlattr, change: dict[str, str | None]
) -> None:
    merged = {"response_type": "code", "client_id": fake.oauth2_client.client_id, **change}
    params = {k: v for k, v in merged.items() if v is not None}
    url = authorize_url(fake, **params)
    with requests.Session() as s:
        page = s.get(url, timeout=10, allow_redirects=False)
    assert page.status_code == 400
    assert "Location" not in page.headers
    with pytest.raises(ConsentError):
        fake.consent_v2(url)


def test_a_consent_form_works_once(fake: FakeFlattr) -> None:
    url = authorize_url(fake, response_type="code", client_id=fake.oauth2_client.client_id)
    with requests.Session() as s:
        page = s.get(url, timeout=10).text
        fields = dict(re.findall(r'name="(request|form_key)" value="([^"]+)"', page))
        first = s.post(url, data={**fields, "decision": "allow"}, allow_redirects=False, timeout=10)
        second = s.post(
            url, data={**fields, "decision": "allow"}, allow_redirects=False, timeout=10
        )
        stale = s.post(
            url,
            data={"request": fields["request"], "form_key": "x", "decision": "allow"},
            timeout=10,
        )
    assert first.status_code == 302 and "code=" in first.headers["Location"]
    assert second.status_code == 400 and stale.status_code == 400


def test_a_client_without_redirect_uri_shows_the_code_on_a_page(fake: FakeFlattr) -> None:
    app = fake.add_oauth2_client(redirect_uri=None, name="CLI")
    consent = fake.consent_v2(authorize_url(fake, response_type="code", client_id=app.client_id))
    assert consent.redirect_url is None and consent.code is not None
    reply = token_post(
        fake,
        {"code": consent.code, "grant_type": "authorization_code"},
        auth=(app.client_id, app.client_secret),
    )
    assert reply.status_code == 200 and reply.json()["token_type"] == "bearer"


def test_implicit_flow_puts_the_token_in_the_fragment(fake: FakeFlattr) -> None:
    url = authorize_url(
        fake,
        response_type="token",
        client_id=fake.oauth2_client.client_id,
        scope="flattr",
        state="s2",
    )
    consent = fake.consent_v2(url)
    assert consent.redirect_url is not None
    fragment = parse_qs(urlsplit(consent.redirect_url).fragment)
    assert fragment["token_type"] == ["bearer"] and consent.state == "s2"
    assert consent.code is None and consent.access_token is not None
    with v2_api(fake, consent.access_token) as api:
        assert api.get("/user").json()["username"] == "alice"


def test_consent_answers_for_the_logged_in_user(fake: FakeFlattr) -> None:
    bob = fake.add_user("bob")
    fake.log_in(bob)
    reply = token_post(
        fake,
        {"code": code_for(fake), "grant_type": "authorization_code", "redirect_uri": CALLBACK},
        auth=basic(fake),
    )
    with v2_api(fake, reply.json()["access_token"]) as api:
        assert api.get("/user").json()["username"] == "bob"


# -- the token endpoint -------------------------------------------------------


def test_token_answer_has_no_cache_headers_and_json(fake: FakeFlattr) -> None:
    code = code_for(fake)
    reply = token_post(
        fake,
        {"code": code, "grant_type": "authorization_code", "redirect_uri": CALLBACK},
        auth=basic(fake),
    )
    assert reply.status_code == 200
    assert reply.headers["Content-Type"] == "application/json; charset=utf-8"
    assert reply.headers["Cache-Control"] == "no-store"
    assert reply.headers["Pragma"] == "no-cache"
    assert set(reply.json()) == {"access_token", "token_type", "scope"}


def test_token_request_as_json_like_the_docs(fake: FakeFlattr) -> None:
    data = {"code": code_for(fake), "grant_type": "authorization_code", "redirect_uri": CALLBACK}
    reply = token_post(fake, data, auth=basic(fake), json_body=True)
    assert reply.status_code == 200


def test_credentials_in_the_form_body_instead_of_basic(fake: FakeFlattr) -> None:
    client_id, secret = basic(fake)
    data = {
        "code": code_for(fake),
        "grant_type": "authorization_code",
        "redirect_uri": CALLBACK,
        "client_id": client_id,
        "client_secret": secret,
    }
    assert token_post(fake, data).status_code == 200


def test_credentials_in_the_url_become_basic(fake: FakeFlattr) -> None:
    # gPodder's way: https://id:secret@flattr.com/oauth/token
    client_id, secret = basic(fake)
    host = fake.base_url.removeprefix("http://")
    with requests.Session() as s:
        reply = s.post(
            f"http://{client_id}:{secret}@{host}/oauth/token",
            data={
                "code": code_for(fake),
                "grant_type": "authorization_code",
                "redirect_uri": CALLBACK,
            },
            timeout=10,
        )
    assert reply.status_code == 200


@pytest.mark.parametrize(
    ("change", "status", "error"),
    [
        ({"grant_type": None}, 400, "invalid_request"),
        ({"code": None}, 400, "invalid_request"),
        ({"grant_type": "client_credentials"}, 400, "unsupported_grant_type"),
        ({"code": "nope"}, 400, "invalid_grant"),
        ({"redirect_uri": None}, 400, "invalid_grant"),
        ({"redirect_uri": "https://127.0.0.1/other"}, 400, "invalid_grant"),
        ({"client_secret": "different"}, 400, "invalid_request"),
        ({"client_id": "different"}, 400, "invalid_request"),
    ],
)
def test_token_endpoint_errors_follow_rfc_6749(
    fake: FakeFlattr, change: dict[str, str | None], status: int, error: str
) -> None:
    data: dict[str, str | None] = {
        "code": code_for(fake),
        "grant_type": "authorization_code",
        "redirect_uri": CALLBACK,
        **change,
    }
    reply = token_post(fake, {k: v for k, v in data.items() if v is not None}, auth=basic(fake))
    assert reply.status_code == status
    body = reply.json()
    assert body["error"] == error and body["error_description"]


@pytest.mark.parametrize(
    "auth",
    [None, ("nobody", "x"), ("", ""), "garbage"],
)
def test_bad_client_authentication_is_401_invalid_client(
    fake: FakeFlattr, auth: tuple[str, str] | str | None
) -> None:
    data = {"code": code_for(fake), "grant_type": "authorization_code", "redirect_uri": CALLBACK}
    if isinstance(auth, str):
        with requests.Session() as s:
            reply = s.post(
                f"{fake.base_url}/oauth/token",
                data=data,
                headers={"Authorization": "Basic " + base64.b64encode(b"no-colon").decode()},
                timeout=10,
            )
    else:
        reply = token_post(fake, data, auth=auth)
    assert reply.status_code == 401
    assert reply.json()["error"] == "invalid_client"
    assert reply.headers["WWW-Authenticate"] == 'Basic realm="flattr"'


def test_a_code_of_another_client_is_invalid_grant(fake: FakeFlattr) -> None:
    other = fake.add_oauth2_client(redirect_uri=CALLBACK)
    code = code_for(fake, other)
    reply = token_post(
        fake,
        {"code": code, "grant_type": "authorization_code", "redirect_uri": CALLBACK},
        auth=basic(fake),
    )
    assert reply.json()["error"] == "invalid_grant"


def test_codes_expire_after_ten_minutes() -> None:
    now = [1_350_000_000.0]
    with FakeFlattr(clock=lambda: now[0]) as fake:
        code = code_for(fake)
        now[0] += 601
        reply = token_post(
            fake,
            {"code": code, "grant_type": "authorization_code", "redirect_uri": CALLBACK},
            auth=basic(fake),
        )
        assert reply.json()["error"] == "invalid_grant"
        fresh = code_for(fake)
        now[0] += 599
        ok = token_post(
            fake,
            {"code": fresh, "grant_type": "authorization_code", "redirect_uri": CALLBACK},
            auth=basic(fake),
        )
        assert ok.status_code == 200


def test_token_endpoint_takes_only_post(fake: FakeFlattr) -> None:
    with requests.Session() as s:
        reply = s.get(f"{fake.base_url}/oauth/token", timeout=10)
    assert reply.status_code == 405 and reply.headers["Allow"] == "POST"


# -- bearer tokens ------------------------------------------------------------


def test_issue_v2_token_masks_the_token_and_checks_scopes(fake: FakeFlattr) -> None:
    token = fake.issue_v2_token(scopes=("flattr", "email"))
    assert token.token not in repr(token)
    assert token.scopes == ("flattr", "email") and token.username == "alice"
    with pytest.raises(ValueError, match="read"):
        fake.issue_v2_token(scopes=("read",))


def test_a_bad_or_revoked_token_is_401_even_on_public_resources(fake: FakeFlattr) -> None:
    token = fake.issue_v2_token()
    with v2_api(fake, token) as api:
        assert api.get("/categories").status_code == 200
        fake.revoke_v2_token(token)
        reply = api.get("/categories")
    assert_error(reply, 401, "unauthorized")
    assert reply.headers["WWW-Authenticate"] == 'Bearer realm="flattr", error="invalid_token"'
    with v2_api(fake, "0" * 40) as api:
        assert_error(api.get("/things/search"), 401, "unauthorized")


def test_unanswered_consent_pages_and_old_codes_are_not_kept_for_ever() -> None:
    """Anyone may open /oauth/authorize: what it leaves behind is bounded."""
    from flattr.testing._oauth2 import MAX_PENDING_REQUESTS

    now = [1_350_000_000.0]
    with FakeFlattr(clock=lambda: now[0]) as fake, requests.Session() as s:
        app = fake.oauth2_client
        page = authorize_url(
            fake, response_type="code", client_id=app.client_id, redirect_uri=app.redirect_uri or ""
        )
        for _ in range(MAX_PENDING_REQUESTS + 50):
            assert s.get(page, timeout=10).status_code == 200
        v2 = fake._v2  # the fake's v2 state: the bound is what is tested
        assert len(v2.requests) == MAX_PENDING_REQUESTS
        first = code_for(fake)
        for _ in range(5):
            code_for(fake)
        assert first in v2.codes
        now[0] += 601  # every code so far has expired
        code_for(fake)
        assert len(v2.codes) == 1 and first not in v2.codes
