"""Signing is spec-exact: the published vectors, and oauthlib's own client as an oracle.

``flattr._http.signing.Signer`` computes once what does not change between calls
(the HMAC key, and per request its base string and header with the nonce,
timestamp and signature left out), so these tests pin both ways it can sign:
the precomputed one and the one that runs oauthlib's building blocks in full.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import quote

import oauthlib.oauth1
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from oauthlib.oauth1.rfc5849.utils import parse_authorization_header, unescape

from flattr._http import Credentials, Request, Signer, sign

# OAuth Core 1.0, Appendix A (A.5.1 - A.5.2): GET with a query, HMAC-SHA1.
APPENDIX_A_CREDENTIALS = Credentials(
    "dpf43f3p2l4k3l03", "kd94hf93k423kf44", "nnch734d00sl2jdk", "pfkkdhi9sl3r4s00"
)
APPENDIX_A_REQUEST = Request(
    "GET",
    "http://photos.example.net/photos",
    query=(("file", "vacation.jpg"), ("size", "original")),
)
APPENDIX_A_NONCE, APPENDIX_A_TIMESTAMP = "kllo9940pd9333jh", "1191242096"
APPENDIX_A_BASE_STRING = (
    "GET&http%3A%2F%2Fphotos.example.net%2Fphotos&file%3Dvacation.jpg%26"
    "oauth_consumer_key%3Ddpf43f3p2l4k3l03%26oauth_nonce%3Dkllo9940pd9333jh%26"
    "oauth_signature_method%3DHMAC-SHA1%26oauth_timestamp%3D1191242096%26"
    "oauth_token%3Dnnch734d00sl2jdk%26oauth_version%3D1.0%26size%3Doriginal"
)
APPENDIX_A_SIGNATURE = "tR3+Ty81lMeYAr/Fid0kMTYa/WM="

# RFC 5849 §3.4.1.1: a POST with query, form body and repeated names. The RFC
# gives no secrets (its signature cannot be reproduced), so the base string is
# the vector; the signature is checked against oauthlib's client below.
RFC_CREDENTIALS = Credentials(
    "9djdj82h48djs9d2", "j49sk3j29djd", "kkk9d7dh3k39sjv7", "dh893hdasih9"
)
RFC_REQUEST = Request(
    "POST",
    "http://example.com/request",
    query=(("b5", "=%3D"), ("a3", "a"), ("c@", ""), ("a2", "r b")),
    form=(("c2", ""), ("a3", "2 q")),
)
RFC_NONCE, RFC_TIMESTAMP = "7d8f3e4a", "137131201"
RFC_BASE_STRING = (
    "POST&http%3A%2F%2Fexample.com%2Frequest&a2%3Dr%2520b%26a3%3D2%2520q%26"
    "a3%3Da%26b5%3D%253D%25253D%26c%2540%3D%26c2%3D%26oauth_consumer_key%3D"
    "9djdj82h48djs9d2%26oauth_nonce%3D7d8f3e4a%26oauth_signature_method%3D"
    "HMAC-SHA1%26oauth_timestamp%3D137131201%26oauth_token%3Dkkk9d7dh3k39sjv7"
)
# The RFC's example omits the optional oauth_version; flattr always sends
# "1.0" (Flattr's server is OAuth Core 1.0a), which sorts last here.
RFC_BASE_STRING_WITH_VERSION = RFC_BASE_STRING + "%26oauth_version%3D1.0"


def header_params(headers: dict[str, str]) -> dict[str, str]:
    """The OAuth parameters of an Authorization header, unescaped."""
    return {
        name: unescape(value)
        for name, value in parse_authorization_header(headers["Authorization"])
    }


def oauthlib_header(
    request: Request, credentials: Credentials, nonce: str, timestamp: str
) -> dict[str, str]:
    """What oauthlib's own client sends for the same request (the oracle)."""
    client = oauthlib.oauth1.Client(
        credentials.consumer_key,
        client_secret=credentials.consumer_secret,
        resource_owner_key=credentials.token_key,
        resource_owner_secret=credentials.token_secret,
        nonce=nonce,
        timestamp=timestamp,
    )
    signed = sign(request, credentials, nonce=nonce, timestamp=timestamp)
    body = signed.body.decode("ascii") if signed.body is not None else None
    headers = {"Content-Type": "application/x-www-form-urlencoded"} if body is not None else {}
    _, oauthlib_headers, _ = client.sign(signed.uri, request.method, body, headers)
    return header_params(oauthlib_headers)


def test_appendix_a_signature_through_sign() -> None:
    signed = sign(
        APPENDIX_A_REQUEST,
        APPENDIX_A_CREDENTIALS,
        nonce=APPENDIX_A_NONCE,
        timestamp=APPENDIX_A_TIMESTAMP,
    )
    params = header_params(signed.headers)
    assert params["oauth_signature"] == APPENDIX_A_SIGNATURE
    assert params["oauth_nonce"] == APPENDIX_A_NONCE
    assert params["oauth_timestamp"] == APPENDIX_A_TIMESTAMP
    assert params["oauth_version"] == "1.0"
    assert signed.uri == "http://photos.example.net/photos?file=vacation.jpg&size=original"
    assert signed.body is None


def test_appendix_a_base_string() -> None:
    signer = Signer(APPENDIX_A_CREDENTIALS)
    base = signer.base_string(
        APPENDIX_A_REQUEST, nonce=APPENDIX_A_NONCE, timestamp=APPENDIX_A_TIMESTAMP
    )
    assert base == APPENDIX_A_BASE_STRING


def test_appendix_a_both_ways_of_signing_and_a_reused_signer_agree() -> None:
    signer = Signer(APPENDIX_A_CREDENTIALS)
    values = {"nonce": APPENDIX_A_NONCE, "timestamp": APPENDIX_A_TIMESTAMP}
    precomputed_first = signer.sign(APPENDIX_A_REQUEST, **values)
    precomputed_again = signer.sign(APPENDIX_A_REQUEST, **values)  # from the cache
    in_full = signer._sign_in_full(APPENDIX_A_REQUEST, APPENDIX_A_NONCE, APPENDIX_A_TIMESTAMP)
    assert precomputed_first == precomputed_again == in_full
    assert header_params(in_full.headers)["oauth_signature"] == APPENDIX_A_SIGNATURE


def test_a_reused_signer_fills_in_each_calls_nonce_and_timestamp() -> None:
    signer = Signer(APPENDIX_A_CREDENTIALS)
    signer.sign(APPENDIX_A_REQUEST, nonce="other1", timestamp="1")  # builds the template
    signed = signer.sign(APPENDIX_A_REQUEST, nonce=APPENDIX_A_NONCE, timestamp=APPENDIX_A_TIMESTAMP)
    assert header_params(signed.headers)["oauth_signature"] == APPENDIX_A_SIGNATURE


def test_rfc5849_base_string() -> None:
    base = Signer(RFC_CREDENTIALS).base_string(
        RFC_REQUEST, nonce=RFC_NONCE, timestamp=RFC_TIMESTAMP
    )
    assert base == RFC_BASE_STRING_WITH_VERSION


def test_rfc5849_request_signed_like_oauthlib_signs_it() -> None:
    signed = sign(RFC_REQUEST, RFC_CREDENTIALS, nonce=RFC_NONCE, timestamp=RFC_TIMESTAMP)
    assert header_params(signed.headers) == oauthlib_header(
        RFC_REQUEST, RFC_CREDENTIALS, RFC_NONCE, RFC_TIMESTAMP
    )
    assert signed.uri == "http://example.com/request?b5=%3D%253D&a3=a&c%40=&a2=r%20b"
    assert signed.body == b"c2=&a3=2%20q"
    assert signed.headers["Content-Type"] == "application/x-www-form-urlencoded"


def test_per_call_values_are_fresh_each_time() -> None:
    signer = Signer(APPENDIX_A_CREDENTIALS)
    first = header_params(signer.sign(APPENDIX_A_REQUEST).headers)
    second = header_params(signer.sign(APPENDIX_A_REQUEST).headers)
    assert first["oauth_nonce"] != second["oauth_nonce"]
    assert first["oauth_signature"] != second["oauth_signature"]


def test_nonces_are_128_random_bits_and_never_repeat_across_threads() -> None:
    signer = Signer(APPENDIX_A_CREDENTIALS)

    def draw() -> list[str]:
        return [
            header_params(signer.sign(APPENDIX_A_REQUEST).headers)["oauth_nonce"]
            for _ in range(300)
        ]

    with ThreadPoolExecutor(4) as pool:
        nonces = [nonce for batch in pool.map(lambda _: draw(), range(4)) for nonce in batch]
    assert len(set(nonces)) == len(nonces) == 1200  # several batches of the pool
    assert all(re.fullmatch(r"[A-Z2-7]{26}", nonce) for nonce in nonces)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_forked_child_does_not_reuse_the_parents_pooled_nonces() -> None:
    # In a fresh interpreter (forking the threaded test process would warn): the
    # parent has pooled nonces left when it forks; the child must draw new ones.
    code = """
import os
from flattr._http.signing import _new_nonce
_new_nonce()
read, write = os.pipe()
if os.fork() == 0:
    os.write(write, _new_nonce().encode())
    os._exit(0)
os.wait()
print(os.read(read, 64).decode(), _new_nonce())
"""
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    child, parent = out.stdout.split()
    assert re.fullmatch(r"[A-Z2-7]{26}", child)
    assert child != parent


def test_signer_repr_shows_no_secret() -> None:
    text = repr(Signer(APPENDIX_A_CREDENTIALS)) + str(Signer(APPENDIX_A_CREDENTIALS))
    for secret in ("kd94hf93k423kf44", "pfkkdhi9sl3r4s00", "nnch734d00sl2jdk"):
        assert secret not in text


# -- property: any request, both ways of signing, equal to oauthlib's client --

TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=12)
NAMES = TEXT.filter(lambda name: not name.startswith("oauth_"))
PAIRS = st.lists(st.tuples(NAMES, TEXT), max_size=5).map(tuple)
SEGMENT = st.text(st.characters(exclude_categories=("Cs",)), min_size=1, max_size=8).map(
    lambda text: quote(text, safe="")
)
HOST = st.from_regex(r"[A-Za-z][A-Za-z0-9-]{0,10}(\.[A-Za-z]{2,4})?", fullmatch=True)
PORT = st.sampled_from(["", ":80", ":443", ":8080"])
SECRET = st.text(st.characters(exclude_categories=("Cs",)), min_size=1, max_size=16)
NONCE = st.one_of(
    st.from_regex(r"[A-Za-z0-9]{1,40}", fullmatch=True),  # the precomputed way
    st.text(st.characters(exclude_categories=("Cs",)), min_size=1, max_size=10),  # in full
)


@st.composite
def requests(draw: st.DrawFn) -> Request:
    scheme = draw(st.sampled_from(["http", "https"]))
    path = "/".join(draw(st.lists(SEGMENT, max_size=3)))
    url = f"{scheme}://{draw(HOST)}{draw(PORT)}/{path}"
    method = draw(st.sampled_from(["GET", "POST"]))
    form = draw(PAIRS.filter(bool)) if method == "POST" and draw(st.booleans()) else None
    return Request(method, url, query=draw(PAIRS), form=form)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    request=requests(),
    consumer=st.tuples(SECRET, SECRET),
    token=st.one_of(st.none(), st.tuples(SECRET, SECRET)),
    nonce=NONCE,
    timestamp=st.integers(min_value=1, max_value=2**40).map(str),
    second_nonce=st.from_regex(r"[0-9]{8,20}", fullmatch=True),
)
def test_signing_matches_oauthlib_client(
    request: Request,
    consumer: tuple[str, str],
    token: tuple[str, str] | None,
    nonce: str,
    timestamp: str,
    second_nonce: str,
) -> None:
    credentials = Credentials(*consumer, *(token or (None, None)))
    signer = Signer(credentials)
    expected = oauthlib_header(request, credentials, nonce, timestamp)
    first = signer.sign(request, nonce=nonce, timestamp=timestamp)
    assert header_params(first.headers) == expected
    # the same signer again (a cached template when there is one) ...
    assert signer.sign(request, nonce=nonce, timestamp=timestamp) == first
    # ... and the building blocks run in full give the same answer
    assert signer._sign_in_full(request, nonce, timestamp) == first
    # a later call with other per-call values is still exact
    again = signer.sign(request, nonce=second_nonce, timestamp=timestamp)
    assert header_params(again.headers) == oauthlib_header(
        request, credentials, second_nonce, timestamp
    )
    # and the everyday call, which picks its own nonce and timestamp
    chosen = header_params(signer.sign(request).headers)
    assert chosen == oauthlib_header(
        request, credentials, chosen["oauth_nonce"], chosen["oauth_timestamp"]
    )


@pytest.mark.parametrize("name", ["oauth_nonce", "oauth_timestamp", "oauth_signature"])
def test_a_request_carrying_a_per_call_name_is_signed_in_full(name: str) -> None:
    # Its sort position could depend on the per-call value, so no template is used;
    # the answer is still the building blocks' answer.
    request = Request("GET", "http://example.com/x", query=((name, "zz"),))
    signer = Signer(RFC_CREDENTIALS)
    signed = signer.sign(request, nonce="abc", timestamp="1")
    assert signed == signer._sign_in_full(request, "abc", "1")
