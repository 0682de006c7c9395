"""Each OAuth problem, and where OAuth parameters may travel."""

from __future__ import annotations

import time
from urllib.parse import quote, urlencode

import pytest
from oauthlib.oauth1 import (
    SIGNATURE_PLAINTEXT,
    SIGNATURE_TYPE_BODY,
    SIGNATURE_TYPE_QUERY,
)

from flattr.testing import Credentials, FakeFlattr

from .kit import FORM, Signer, rest, send

ME = "/rest/0.0.1/user/me"


def problem_of(reply_body: bytes) -> str:
    from urllib.parse import parse_qs

    return parse_qs(reply_body.decode())["oauth_problem"][0]


@pytest.fixture
def token(fake: FakeFlattr) -> Credentials:
    return fake.issue_access_token(scopes=("read", "publish"))


@pytest.mark.parametrize("where", ["AUTH_HEADER", SIGNATURE_TYPE_QUERY])
def test_get_params_in_header_or_query(fake: FakeFlattr, token: Credentials, where: str) -> None:
    reply = rest(fake, token).get(ME, signature_type=where)
    assert reply.status == 200


def test_params_in_form_body(fake: FakeFlattr, token: Credentials) -> None:
    data = (
        "<thing><url>http://a.example/body</url><title>Hello</title><description>World!"
        "</description><category>text</category><language>en_GB</language></thing>"
    )
    reply = rest(fake, token).call(
        "POST",
        "/rest/0.0.1/thing/register",
        form={"data": data},
        signature_type=SIGNATURE_TYPE_BODY,
    )
    assert reply.status == 200, reply.body
    recorded = fake.requests_to("/rest/0.0.1/thing/register")[-1]
    assert recorded.header("Authorization") is None
    assert recorded.oauth_params["oauth_token"] == token.key


def test_request_token_with_params_in_query(fake: FakeFlattr) -> None:
    reply = Signer(fake, fake.consumer).call(
        "GET", "/oauth/request_token", signature_type=SIGNATURE_TYPE_QUERY, callback_uri="oob"
    )
    assert reply.status == 200


def _php_style(fake: FakeFlattr, token: Credentials, tamper: bool) -> int:
    """Params in the header AND the query, as the 2010 PHP library sent them."""
    signer = rest(fake, token)
    uri, _, _ = signer.client(signature_type=SIGNATURE_TYPE_QUERY).sign(fake.base_url + ME)
    query = uri.split("?", 1)[1]
    pairs = [p.split("=", 1) for p in query.split("&")]
    header = "OAuth " + ", ".join(f'{k}="{v}"' for k, v in pairs)
    if tamper:
        query = query.replace("oauth_version=1.0", "oauth_version=1.0&oauth_x=1").replace(
            "oauth_nonce=", "oauth_nonce=9"
        )
    return send(fake, "GET", f"{ME}?{query}", headers={"Authorization": header}).status


def test_params_in_two_places_must_agree(fake: FakeFlattr, token: Credentials) -> None:
    assert _php_style(fake, token, tamper=False) == 200
    assert _php_style(fake, token, tamper=True) == 401


def test_body_fields_are_part_of_the_signature(fake: FakeFlattr, token: Credentials) -> None:
    signer = rest(fake, token)
    url = fake.base_url + "/rest/0.0.1/thing/register"
    body = urlencode({"data": "<thing/>"})
    _, headers, _ = signer.client().sign(url, "POST", body, {"Content-Type": FORM})
    tampered = urlencode({"data": "<thing></thing>"}).encode()
    reply = send(fake, "POST", url, headers=dict(headers), body=tampered)
    assert reply.status == 401
    assert (
        reply.header("WWW-Authenticate")
        == 'OAuth realm="Flattr", oauth_problem="signature_invalid"'
    )


def test_signature_uses_the_real_host(fake: FakeFlattr, token: Credentials) -> None:
    signer = rest(fake, token)
    wrong = fake.base_url.replace("127.0.0.1", "localhost") + ME
    _, headers, _ = signer.client().sign(wrong)
    assert send(fake, "GET", ME, headers=dict(headers)).status == 401
    _, headers, _ = signer.client().sign(wrong)
    headers = dict(headers, Host=f"localhost:{fake.port}")
    assert send(fake, "GET", ME, headers=headers).status == 200


def _token_leg(fake: FakeFlattr, **kwargs: object) -> str:
    reply = Signer(fake, kwargs.pop("consumer", fake.consumer)).call(  # type: ignore[arg-type]
        "POST", "/oauth/request_token", **kwargs
    )
    assert reply.status == 401
    assert reply.header("Content-Type") == "application/x-www-form-urlencoded"
    return problem_of(reply.body)


def test_consumer_key_unknown(fake: FakeFlattr) -> None:
    assert _token_leg(fake, consumer=Credentials("nobody", "x"), callback_uri="oob") == (
        "consumer_key_unknown"
    )


def test_signature_invalid(fake: FakeFlattr) -> None:
    bad = Credentials(fake.consumer.key, "wrong-secret")
    assert _token_leg(fake, consumer=bad, callback_uri="oob") == "signature_invalid"


def test_timestamp_refused(fake: FakeFlattr) -> None:
    stale = str(int(time.time()) - 3600)
    assert _token_leg(fake, callback_uri="oob", timestamp=stale) == "timestamp_refused"
    future = str(int(time.time()) + 3600)
    assert _token_leg(fake, callback_uri="oob", timestamp=future) == "timestamp_refused"


def test_timestamp_follows_the_fake_clock() -> None:
    with FakeFlattr(clock=lambda: 1_284_566_106.0, timestamp_tolerance=30) as fake:
        ok = Signer(fake, fake.consumer).call(
            "POST", "/oauth/request_token", callback_uri="oob", timestamp="1284566120"
        )
        assert ok.status == 200
        assert _token_leg(fake, callback_uri="oob", timestamp="1284566200") == "timestamp_refused"


def test_nonce_used(fake: FakeFlattr) -> None:
    first = Signer(fake, fake.consumer).call(
        "POST", "/oauth/request_token", callback_uri="oob", nonce="samenonce123"
    )
    assert first.status == 200
    assert _token_leg(fake, callback_uri="oob", nonce="samenonce123") == "nonce_used"


def test_nonce_is_per_token(fake: FakeFlattr, token: Credentials) -> None:
    other = fake.issue_access_token()
    assert rest(fake, token).get(ME, nonce="n1234567").status == 200
    assert rest(fake, other).get(ME, nonce="n1234567").status == 200
    assert rest(fake, token).get(ME, nonce="n1234567").status == 401


def test_bad_signature_does_not_burn_the_nonce(fake: FakeFlattr) -> None:
    bad = Credentials(fake.consumer.key, "wrong")
    assert (
        _token_leg(fake, consumer=bad, callback_uri="oob", nonce="keepme99") == "signature_invalid"
    )
    ok = Signer(fake, fake.consumer).call(
        "POST", "/oauth/request_token", callback_uri="oob", nonce="keepme99"
    )
    assert ok.status == 200


def test_signature_method_rejected(fake: FakeFlattr) -> None:
    assert _token_leg(fake, callback_uri="oob", signature_method=SIGNATURE_PLAINTEXT) == (
        "signature_method_rejected"
    )


def _raw_header(fake: FakeFlattr, **overrides: str) -> bytes:
    """A correctly signed request_token call, then one header field replaced or removed."""
    _, headers, _ = (
        Signer(fake, fake.consumer)
        .client(callback_uri="oob")
        .sign(fake.base_url + "/oauth/request_token", "POST")
    )
    fields = dict(
        part.strip().split("=", 1) for part in headers["Authorization"][len("OAuth ") :].split(",")
    )
    for name, value in overrides.items():
        if value == "":
            fields.pop(name)
        else:
            fields[name] = f'"{quote(value, safe="")}"'
    header = "OAuth " + ", ".join(f"{k}={v}" for k, v in fields.items())
    reply = send(fake, "POST", "/oauth/request_token", headers={"Authorization": header}, body=b"")
    assert reply.status == 401
    return reply.body


def test_version_rejected(fake: FakeFlattr) -> None:
    assert problem_of(_raw_header(fake, oauth_version="2.0")) == "version_rejected"


@pytest.mark.parametrize(
    "name",
    ["oauth_consumer_key", "oauth_nonce", "oauth_timestamp", "oauth_signature", "oauth_callback"],
)
def test_parameter_absent(fake: FakeFlattr, name: str) -> None:
    body = _raw_header(fake, **{name: ""}).decode()
    assert problem_of(body.encode()) == "parameter_absent"
    assert name in body


def test_verifier_absent_on_access_token(fake: FakeFlattr) -> None:
    reply = Signer(fake, fake.consumer).call("POST", "/oauth/request_token", callback_uri="oob")
    req = Credentials(reply.form["oauth_token"], reply.form["oauth_token_secret"])
    fake.approve(req.key)
    answer = Signer(fake, fake.consumer, req).call("POST", "/oauth/access_token")
    assert (answer.status, problem_of(answer.body)) == (401, "parameter_absent")


@pytest.mark.parametrize(
    "callback",
    [
        "/relative",
        "ftp://x.example/",
        "javascript:alert(1)",
        "http://x.example/\r\nSet-Cookie: a=b",
    ],
)
def test_callback_must_be_absolute_http_or_oob(fake: FakeFlattr, callback: str) -> None:
    assert _token_leg(fake, callback_uri=callback) == "parameter_rejected"


def test_rest_failure_is_xml_with_www_authenticate(fake: FakeFlattr) -> None:
    reply = send(fake, "GET", ME)
    assert reply.status == 401
    assert reply.header("Content-Type") == "text/xml; charset=utf-8"
    assert reply.xml.findtext("error/code") == "401"
    assert reply.xml.findtext("error/message") == "parameter_absent"
    assert (
        reply.header("WWW-Authenticate") == 'OAuth realm="Flattr", oauth_problem="parameter_absent"'
    )


def test_unknown_token_on_rest(fake: FakeFlattr) -> None:
    reply = rest(fake, Credentials("f" * 32, "s")).get(ME)
    assert reply.status == 401
    assert reply.xml.findtext("error/message") == "token_rejected"


def test_nonce_is_forgotten_after_the_window() -> None:
    now = [1_300_000_000.0]
    with FakeFlattr(clock=lambda: now[0], timestamp_tolerance=60) as fake:
        api = rest(fake, fake.issue_access_token())
        assert api.get(ME, nonce="again123", timestamp=str(int(now[0]))).status == 200
        now[0] += 60
        assert api.get(ME, nonce="again123", timestamp=str(int(now[0]))).status == 401
        now[0] += 61
        assert api.get(ME, nonce="again123", timestamp=str(int(now[0]))).status == 200
