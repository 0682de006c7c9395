"""The three-legged OAuth 1.0a flow against FakeFlattr, over real HTTP."""

from __future__ import annotations

from urllib.parse import parse_qs, quote, urlsplit

import pytest

from flattr.testing import ConsentError, Credentials, FakeFlattr

from .kit import Signer, access_token, request_token, rest, send


def authorize_url(fake: FakeFlattr, token: Credentials, scope: str | None = "read") -> str:
    url = f"{fake.base_url}/oauth/authenticate?oauth_token={token.key}"
    return url + (f"&access_scope={scope}" if scope is not None else "")


def trade(fake: FakeFlattr, token: Credentials, verifier: str) -> Credentials:
    reply = access_token(fake, token, verifier)
    assert reply.status == 200, reply.body
    assert reply.header("Content-Type") == "application/x-www-form-urlencoded"
    return Credentials(reply.form["oauth_token"], reply.form["oauth_token_secret"])


def test_request_token_answer_is_form_encoded_and_confirms_callback(fake: FakeFlattr) -> None:
    reply = Signer(fake, fake.consumer).call(
        "GET", "/oauth/request_token", callback_uri="http://app.example/cb"
    )
    assert reply.status == 200
    assert reply.header("Content-Type") == "application/x-www-form-urlencoded"
    assert set(reply.form) == {"oauth_token", "oauth_token_secret", "oauth_callback_confirmed"}
    assert reply.form["oauth_callback_confirmed"] == "true"


def test_full_flow_through_the_consent_page(fake: FakeFlattr) -> None:
    token = request_token(fake, "http://app.example/cb?state=xyz")
    result = fake.consent(authorize_url(fake, token, "read%2Cpublish"))
    assert not result.denied
    assert result.redirect_url is not None
    assert result.verifier is not None
    query = parse_qs(urlsplit(result.redirect_url).query)
    assert query == {
        "state": ["xyz"],
        "oauth_token": [token.key],
        "oauth_verifier": [result.verifier],
    }
    access = trade(fake, token, result.verifier)
    me = rest(fake, access).get("/rest/0.0.1/user/me")
    assert me.status == 200
    assert me.xml.findtext("user/username", "").strip() == "alice"
    # publish was granted along with read: registering works.
    data = (
        "<thing><url>http://a.example/x</url><title>Hello</title><description>World!"
        "</description><category>text</category><language>en_GB</language></thing>"
    )
    assert (
        rest(fake, access).call("POST", "/rest/0.0.1/thing/register", form={"data": data}).status
        == 200
    )
    # ...but not click.
    assert rest(fake, access).get(f"/rest/0.0.1/thing/click/id/{fake.things[0].id}").status == 403


def test_flow_with_programmatic_approval_and_connect_alias(fake: FakeFlattr) -> None:
    token = request_token(fake)
    page = send(fake, "GET", f"/oauth/connect?oauth_token={token.key}")
    assert page.status == 200
    assert b'id="allow"' in page.body
    verifier = fake.approve(token.key, scopes=("readextended",))
    access = trade(fake, token, verifier)
    me = rest(fake, access).get("/rest/0.0.1/user/me")
    assert me.xml.findtext("user/email", "").strip() == "alice@example.org"


def test_oob_flow_shows_a_pin(fake: FakeFlattr) -> None:
    token = request_token(fake, "oob")
    result = fake.consent(authorize_url(fake, token))
    assert result.redirect_url is None
    assert not result.denied
    assert result.verifier
    trade(fake, token, result.verifier)


def test_deny_redirects_with_denied_and_access_token_is_refused(fake: FakeFlattr) -> None:
    token = request_token(fake)
    result = fake.consent(authorize_url(fake, token), allow=False)
    assert result.denied
    assert result.verifier is None
    assert result.redirect_url is not None
    assert parse_qs(urlsplit(result.redirect_url).query) == {"denied": [token.key]}
    reply = access_token(fake, token, "anything")
    assert (reply.status, reply.form["oauth_problem"]) == (401, "permission_denied")


def test_oob_deny_shows_a_denied_page(fake: FakeFlattr) -> None:
    token = request_token(fake, "oob")
    result = fake.consent(authorize_url(fake, token), allow=False)
    assert result.denied
    assert result.verifier is None
    assert result.redirect_url is None


def test_programmatic_deny(fake: FakeFlattr) -> None:
    token = request_token(fake)
    fake.deny(token.key)
    with pytest.raises(KeyError):
        fake.approve(token.key)


def test_access_token_before_approval_is_permission_denied(fake: FakeFlattr) -> None:
    token = request_token(fake)
    reply = access_token(fake, token, "nope")
    assert (reply.status, reply.form["oauth_problem"]) == (401, "permission_denied")


def test_wrong_verifier_and_reuse_are_token_rejected(fake: FakeFlattr) -> None:
    token = request_token(fake)
    verifier = fake.approve(token.key)
    assert access_token(fake, token, verifier + "x").form["oauth_problem"] == "token_rejected"
    trade(fake, token, verifier)
    again = access_token(fake, token, verifier)
    assert (again.status, again.form["oauth_problem"]) == (401, "token_rejected")


def test_access_token_is_not_a_request_token_and_vice_versa(fake: FakeFlattr) -> None:
    token = request_token(fake)
    access = trade(fake, token, fake.approve(token.key))
    assert access_token(fake, access, "x").form["oauth_problem"] == "token_rejected"
    other = request_token(fake)
    assert rest(fake, other).get("/rest/0.0.1/user/me").status == 401


def test_token_of_another_consumer_is_rejected(fake: FakeFlattr) -> None:
    other = fake.add_consumer(name="Other")
    token = request_token(fake)
    verifier = fake.approve(token.key)
    reply = Signer(fake, other, token).call("POST", "/oauth/access_token", verifier=verifier)
    assert reply.form["oauth_problem"] == "token_rejected"


def test_consent_page_names_app_user_and_scopes_and_escapes(fake: FakeFlattr) -> None:
    app = fake.add_consumer(name="<b>Evil & Co</b>")
    reply = Signer(fake, app).call("POST", "/oauth/request_token", callback_uri="oob")
    key = reply.form["oauth_token"]
    scope = quote("read,click,readextended,bogus", safe="")
    page = send(fake, "GET", f"/oauth/authenticate?oauth_token={key}&access_scope={scope}")
    html = page.body.decode()
    assert page.status == 200
    assert page.header("Content-Type") == "text/html; charset=utf-8"
    assert "&lt;b&gt;Evil &amp; Co&lt;/b&gt;" in html
    assert "<b>Evil" not in html
    assert "alice" in html
    assert "Flattr things for you" in html
    assert "private details" in html
    assert "Register new things" not in html  # publish was not asked for
    assert '<button type="submit" id="allow" name="decision" value="allow">' in html
    assert 'id="deny"' in html
    assert "http" not in html.split("<body>")[0].replace('lang="en"', "")  # no external assets


def test_default_scope_is_read(fake: FakeFlattr) -> None:
    token = request_token(fake)
    result = fake.consent(authorize_url(fake, token, scope=None))
    assert result.verifier is not None
    access = trade(fake, token, result.verifier)
    assert rest(fake, access).get("/rest/0.0.1/feed/categories").status == 200
    me = rest(fake, access).get("/rest/0.0.1/user/me")
    assert me.xml.find("user/email") is None


def test_unknown_or_used_token_gives_a_400_page(fake: FakeFlattr) -> None:
    assert send(fake, "GET", "/oauth/authenticate?oauth_token=nope").status == 400
    token = request_token(fake)
    fake.approve(token.key)
    with pytest.raises(ConsentError):
        fake.consent(authorize_url(fake, token))


def test_consent_post_needs_the_form_key(fake: FakeFlattr) -> None:
    token = request_token(fake)
    body = f"oauth_token={token.key}&decision=allow&form_key=forged".encode()
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    reply = send(fake, "POST", "/oauth/authenticate", headers=headers, body=body)
    assert reply.status == 400
    assert fake.approve(token.key)  # still pending


def test_log_in_changes_the_consenting_user(fake: FakeFlattr) -> None:
    bob = fake.add_user("bob")
    fake.log_in(bob)
    token = request_token(fake)
    result = fake.consent(authorize_url(fake, token))
    assert result.verifier is not None
    access = trade(fake, token, result.verifier)
    me = rest(fake, access).get("/rest/0.0.1/user/me")
    assert me.xml.findtext("user/username", "").strip() == "bob"


def test_revoked_access_token_is_refused(fake: FakeFlattr) -> None:
    access = fake.issue_access_token()
    assert rest(fake, access).get("/rest/0.0.1/user/me").status == 200
    fake.revoke(access.key)
    reply = rest(fake, access).get("/rest/0.0.1/user/me")
    assert reply.status == 401
    assert (
        reply.header("WWW-Authenticate") == 'OAuth realm="Flattr", oauth_problem="token_rejected"'
    )
