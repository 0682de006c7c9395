"""Inputs that used to reach an internal error (500), and where OAuth parameters may not travel.

Every answer here must be the one a server gives a bad request, never
FakeFlattr's "internal error" 500.
"""

from __future__ import annotations

import socket
import time
from urllib.parse import parse_qs, quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from oauthlib.oauth1 import SIGNATURE_TYPE_QUERY

from flattr.testing import FakeFlattr

from .kit import FORM, Signer, rest, send

ME = "/rest/0.0.1/user/me"
INTERNAL = b"internal error in FakeFlattr"


def form(body: bytes) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(body.decode(), keep_blank_values=True).items()}


# -- issue 14: an absurd oauth_timestamp ---------------------------------------


@pytest.mark.parametrize("stamp", ["1" * 5000, "9" * 4301, "1" * 19, "١٢٣", "²"])
def test_absurd_timestamp_on_a_token_leg_is_timestamp_refused(fake: FakeFlattr, stamp: str) -> None:
    reply = Signer(fake, fake.consumer).call(
        "POST", "/oauth/request_token", callback_uri="oob", timestamp=stamp
    )
    assert reply.status == 401, reply.body
    assert form(reply.body)["oauth_problem"] == "timestamp_refused"


def test_absurd_timestamp_on_rest_is_timestamp_refused(fake: FakeFlattr) -> None:
    reply = rest(fake, fake.issue_access_token()).get(ME, timestamp="7" * 5000)
    assert reply.status == 401
    assert reply.xml.findtext("error/message") == "timestamp_refused"
    assert INTERNAL not in reply.body


# -- other numbers that reached int() unchecked --------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/rest/0.0.1/user/get/id/" + "1" * 5000,
        "/rest/0.0.1/user/get/id/%C2%B2",  # superscript two: isdigit() but not int()
        "/rest/0.0.1/thing/listbyuser/id/" + "2" * 5000,
        "/rest/0.0.1/thing/listbyuser/id/%C2%B2",
        "/rest/0.0.1/thing/get/id/" + "3" * 5000,
        "/rest/0.0.1/thing/get/id/%C2%B2",
        "/rest/0.0.1/thing/click/id/%C2%B3",
        "/rest/0.0.1/thing/browse/user/" + "4" * 5000,
        "/rest/0.0.1/thing/browse/user/%C2%B2",
    ],
)
def test_numbers_in_paths_never_reach_an_internal_error(fake: FakeFlattr, path: str) -> None:
    token = fake.issue_access_token(scopes=("read", "click"))
    reply = rest(fake, token).get(path)
    assert reply.status in (200, 404), (reply.status, reply.body)
    assert INTERNAL not in reply.body


@pytest.mark.parametrize(
    "target",
    [
        "/rest/v2/users/alice/things?page=%C2%B2",
        "/rest/v2/users/alice/things?count=" + "1" * 5000,
        "/rest/v2/users/alice/things?page=" + "9" * 19,
        "/rest/v2/things/" + "1" * 5000,
    ],
)
def test_numbers_in_api_v2_never_reach_an_internal_error(fake: FakeFlattr, target: str) -> None:
    bearer = fake.issue_v2_token().token
    reply = send(fake, "GET", target, headers={"Authorization": f"Bearer {bearer}"})
    assert reply.status in (400, 404), (reply.status, reply.body)
    assert INTERNAL not in reply.body


@pytest.mark.parametrize("length", ["²", "1" * 5000, "+5", "1_0", " "])
def test_odd_content_length_is_a_400(fake: FakeFlattr, length: str) -> None:
    with socket.create_connection(("127.0.0.1", fake.port), timeout=5) as sock:
        head = f"POST /oauth/request_token HTTP/1.1\r\nHost: x\r\nContent-Length: {length}\r\n\r\n"
        sock.sendall(head.encode())
        assert sock.recv(100).startswith(b"HTTP/1.1 400")


def test_bad_absolute_target_is_a_400(fake: FakeFlattr) -> None:
    with socket.create_connection(("127.0.0.1", fake.port), timeout=5) as sock:
        sock.sendall(b"GET http://[::1/x HTTP/1.1\r\nHost: x\r\n\r\n")
        assert sock.recv(100).startswith(b"HTTP/1.1 400")


def test_non_ascii_callback_is_refused_not_stored(fake: FakeFlattr) -> None:
    reply = Signer(fake, fake.consumer).call(
        "POST", "/oauth/request_token", callback_uri="http://app.example/\u20ac"
    )
    assert (reply.status, form(reply.body)["oauth_problem"]) == (401, "parameter_rejected")


# -- issue 14: a GET's form body is not read for OAuth parameters ---------------


def _get_with_params_in_body(signer: Signer, path: str, **client_kwargs: object) -> bytes:
    """A GET whose OAuth parameters travel in a form body, signed over them.

    Signed with the parameters in the query, then moved to the body: the
    base string is the same, so a server that read a GET's form body would
    accept it.
    """
    uri, _, _ = signer.client(signature_type=SIGNATURE_TYPE_QUERY, **client_kwargs).sign(
        signer.fake.base_url + path
    )
    query = uri.split("?", 1)[1]
    return send(signer.fake, "GET", path, headers={"Content-Type": FORM}, body=query.encode()).body


def test_oauth_params_in_a_get_body_are_ignored_on_a_token_leg(fake: FakeFlattr) -> None:
    body = _get_with_params_in_body(
        Signer(fake, fake.consumer), "/oauth/request_token", callback_uri="oob"
    )
    assert form(body)["oauth_problem"] == "parameter_absent"
    (recorded,) = fake.requests_to("/oauth/request_token")
    assert recorded.status == 401
    assert b"oauth_signature=" in recorded.body  # it was sent, and recorded...
    assert recorded.oauth_params == {}  # ...but never read as OAuth parameters


def test_oauth_params_in_a_get_body_are_ignored_on_rest(fake: FakeFlattr) -> None:
    body = _get_with_params_in_body(rest(fake, fake.issue_access_token()), ME)
    assert b"<message>parameter_absent</message>" in body.replace(b" ", b"").replace(b"\n", b"")
    assert fake.requests_to(ME)[-1].status == 401


def test_a_get_body_is_not_part_of_the_signature(fake: FakeFlattr) -> None:
    # Signed over the query alone, as PHP saw it; the extra form body changes nothing.
    signer = rest(fake, fake.issue_access_token())
    uri, _, _ = signer.client(signature_type=SIGNATURE_TYPE_QUERY).sign(fake.base_url + ME)
    reply = send(fake, "GET", uri, headers={"Content-Type": FORM}, body=b"extra=1")
    assert reply.status == 200, reply.body


# -- issue 14: Problem Reporting parameters as parameters of their own ---------


def test_acceptable_timestamps_is_its_own_parameter() -> None:
    with FakeFlattr(clock=lambda: 1_300_000_000.0, timestamp_tolerance=30) as fake:
        reply = Signer(fake, fake.consumer).call(
            "POST", "/oauth/request_token", callback_uri="oob", timestamp="1200000000"
        )
    fields = form(reply.body)
    assert fields["oauth_problem"] == "timestamp_refused"
    assert fields["oauth_acceptable_timestamps"] == "1299999970-1300000030"
    assert "oauth_acceptable" not in fields.get("oauth_problem_advice", "")


def test_parameters_absent_is_its_own_parameter(fake: FakeFlattr) -> None:
    with socket.create_connection(("127.0.0.1", fake.port), timeout=5) as sock:
        header = f'OAuth oauth_consumer_key="{fake.consumer.key}", oauth_callback="oob"'
        sock.sendall(
            f"POST /oauth/request_token HTTP/1.1\r\nHost: x\r\nAuthorization: {header}\r\n"
            "Content-Length: 0\r\n\r\n".encode()
        )
        answer = sock.recv(4096)
    fields = form(answer.split(b"\r\n\r\n", 1)[1])
    assert fields["oauth_problem"] == "parameter_absent"
    absent = fields["oauth_parameters_absent"].split("&")
    assert set(absent) == {
        "oauth_signature_method",
        "oauth_signature",
        "oauth_timestamp",
        "oauth_nonce",
    }
    assert "oauth_problem_advice" not in fields


def test_acceptable_versions_is_its_own_parameter(fake: FakeFlattr) -> None:
    reply = Signer(fake, fake.consumer).call(
        "POST",
        "/oauth/request_token",
        callback_uri="oob",
        signature_type=SIGNATURE_TYPE_QUERY,
    )
    assert reply.status == 200  # the helper works; now the same with version 2.0
    uri, headers, _ = (
        Signer(fake, fake.consumer)
        .client(callback_uri="oob", signature_type=SIGNATURE_TYPE_QUERY)
        .sign(fake.base_url + "/oauth/request_token", "POST")
    )
    uri = uri.replace("oauth_version=1.0", "oauth_version=2.0")
    fields = form(send(fake, "POST", uri, headers=dict(headers), body=b"").body)
    assert fields["oauth_problem"] == "version_rejected"
    assert fields["oauth_acceptable_versions"] == "1.0-1.0"


def test_parameters_rejected_names_the_parameter(fake: FakeFlattr) -> None:
    query = "oauth_nonce=a&oauth_nonce=b"
    reply = send(fake, "POST", f"/oauth/request_token?{query}", body=b"")
    fields = form(reply.body)
    assert (fields["oauth_problem"], fields["oauth_parameters_rejected"]) == (
        "parameter_rejected",
        "oauth_nonce",
    )


def test_the_client_still_reads_the_problem(fake: FakeFlattr) -> None:
    import flattr

    with FakeFlattr(clock=lambda: time.time() + 7200) as skewed:
        auth = flattr.FlattrAuth(
            skewed.consumer.key, skewed.consumer.secret, "oob", base_url=skewed.base_url
        )
        with pytest.raises(flattr.OAuthError) as caught:
            auth.fetch_request_token()
    assert caught.value.problem == "timestamp_refused"


# -- a small, bounded fuzz: no input ever gets an internal error ---------------

_OAUTH_NAMES = (
    "oauth_consumer_key",
    "oauth_token",
    "oauth_signature_method",
    "oauth_signature",
    "oauth_timestamp",
    "oauth_nonce",
    "oauth_version",
    "oauth_callback",
    "oauth_verifier",
)
_values = st.one_of(
    st.text(max_size=40),
    st.text(alphabet="0123456789", min_size=1, max_size=6000),
    st.sampled_from(["", "HMAC-SHA1", "PLAINTEXT", "1.0", "oob", "²", "١٢٣", "%", "\x00"]),
)
_paths = st.one_of(
    st.sampled_from(
        [
            "/oauth/request_token",
            "/oauth/access_token",
            "/oauth/authenticate",
            ME,
            "/rest/0.0.1/thing/register",
            "/rest/0.0.1/thing/browse/tag",
        ]
    ),
    st.lists(st.text(max_size=12), min_size=1, max_size=5).map(
        lambda segs: "/rest/0.0.1/" + "/".join(quote(s, safe="") for s in segs)
    ),
)


def _no_internal_error(status: int, body: bytes, path: str) -> None:
    assert INTERNAL not in body, (path, body)
    # R7 register answers 500 for any bad data, by design; nothing else may.
    assert status != 500 or path == "/rest/0.0.1/thing/register", (path, status, body)


@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    params=st.dictionaries(st.sampled_from(_OAUTH_NAMES), _values, max_size=9),
    where=st.sampled_from(["header", "query", "body"]),
    method=st.sampled_from(["GET", "POST"]),
    path=_paths,
)
def test_fuzz_raw_oauth_parameters(
    fake: FakeFlattr, params: dict[str, str], where: str, method: str, path: str
) -> None:
    encoded = "&".join(f"{quote(k)}={quote(v, safe='')}" for k, v in params.items())
    headers: dict[str, str] = {}
    body = b""
    target = path
    if where == "header":
        headers["Authorization"] = "OAuth " + ", ".join(
            f'{k}="{quote(v, safe="")}"' for k, v in params.items()
        )
    elif where == "query":
        target = f"{path}?{encoded}"
    else:
        headers["Content-Type"] = FORM
        body = encoded.encode()
    reply = send(fake, method, target, headers=headers, body=body if method == "POST" else None)
    _no_internal_error(reply.status, reply.body, path)


@settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    path=_paths,
    query=st.dictionaries(st.text(max_size=8), st.text(max_size=20), max_size=3),
    timestamp=st.one_of(st.none(), st.text(alphabet="0123456789", min_size=1, max_size=5000)),
)
def test_fuzz_correctly_signed_requests(
    fake: FakeFlattr, path: str, query: dict[str, str], timestamp: str | None
) -> None:
    # Signed right, so the request gets past OAuth to the resource itself.
    token = fake.issue_access_token(scopes=("read", "click", "publish"))
    qs = "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in query.items())
    target = f"{path}?{qs}" if qs else path
    extra = {"timestamp": timestamp} if timestamp else {}
    method = "POST" if path.endswith(("register", "_token")) else "GET"
    reply = rest(fake, token).call(method, target, **extra)  # type: ignore[arg-type]
    _no_internal_error(reply.status, reply.body, path)
