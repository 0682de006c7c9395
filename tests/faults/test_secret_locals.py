"""Tracebacks rendered with their locals (pytest --showlocals, error trackers) hold no secret.

Only the library's own frames and those below it (httplib2, http.client) are
searched: the test's frame holds the secrets on purpose.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable

import pytest

import flattr
from flattr.testing import FakeFlattr

from .kit import ScriptedServer, client_for


def _library_locals(error: BaseException) -> str:
    """Every local of every library frame in ``error``'s traceback and its chain, as rendered."""
    rendered: list[str] = []
    seen: set[int] = set()
    chain: list[traceback.TracebackException | None] = [
        traceback.TracebackException.from_exception(error, capture_locals=True)
    ]
    while chain:
        te = chain.pop()
        if te is None or id(te) in seen:
            continue
        seen.add(id(te))
        for frame in te.stack:
            if "/tests/" in frame.filename:
                continue
            rendered.append(f"{frame.filename}:{frame.name} {frame.locals}")
        chain.extend((te.__cause__, te.__context__))
    return "\n".join(rendered)


def _fails(call: Callable[[], object]) -> BaseException:
    with pytest.raises(flattr.FlattrError) as caught:
        call()
    return caught.value


def test_a_whole_flow_and_its_failures_leave_no_secret_in_locals(fake: FakeFlattr) -> None:
    consumer_secret = fake.consumer.secret
    auth = flattr.FlattrAuth(fake.consumer.key, consumer_secret, "oob", base_url=fake.base_url)
    request_token = auth.fetch_request_token()
    errors = [_fails(lambda: auth.fetch_access_token(request_token, "not-the-verifier-42"))]
    callback = "http://app.example/cb?oauth_token=someone-else&oauth_verifier=stolen-verifier-77"
    errors.append(_fails(lambda: auth.parse_callback(callback, request_token)))

    request_token = auth.fetch_request_token()
    verifier = fake.approve(request_token.key, scopes=("read", "click"))
    token = auth.fetch_access_token(request_token, verifier)
    errors.append(_fails(lambda: auth.fetch_access_token(request_token, verifier)))  # used up
    client = flattr.FlattrClient(fake.consumer.key, consumer_secret, token, base_url=fake.base_url)
    errors.append(_fails(lambda: client.thing("0" * 32)))  # 404
    fake.inject_fault("/rest/0.0.1/user/me", "drop_before_read", times=10)
    errors.append(_fails(client.me))  # a transport failure deep in httplib2
    fake.clear_faults()
    fake.revoke(token.key)
    errors.append(_fails(client.me))  # 401
    errors.append(
        _fails(
            lambda: flattr.FlattrClient(
                "key", consumer_secret, (token.key, ""), base_url=fake.base_url
            )
        )
    )
    errors.append(_fails(lambda: flattr.FlattrClient("key", "has space", ("k", "secret pair"))))
    auth.close()
    client.close()

    signatures = [r.oauth_params.get("oauth_signature", "") for r in fake.requests]
    needles = {
        "consumer secret": consumer_secret,
        "request-token secret": request_token.secret,
        "verifier": verifier,
        "wrong verifier": "not-the-verifier-42",
        "callback verifier": "stolen-verifier-77",
        "access-token secret": token.secret,
        "pair secret": "secret pair",
        **{f"signature {i}": sig for i, sig in enumerate(signatures) if sig},
    }
    for error in errors:
        text = _library_locals(error)
        assert "Secret('****')" in text or "****" in text or text  # frames were rendered
        for what, needle in needles.items():
            assert needle not in text, f"{what} in the locals of {type(error).__name__}"


def test_a_half_built_client_renders_in_a_traceback() -> None:
    """A FlattrClient whose __init__ failed is a local of that frame: its repr must work."""
    error = _fails(lambda: flattr.FlattrClient("key", "secret", ("k", "")))
    assert "FlattrClient(base_url=None" in _library_locals(error)


def test_transport_failures_leave_no_signature_in_httplib2_frames(
    scripted: Callable[..., ScriptedServer],
) -> None:
    def drop(sock: object, request: object, stopping: object) -> None:
        return None  # close without answering

    server = scripted(drop)
    api, _ = client_for(server.base_url, retries=0)
    error = _fails(api.me)
    text = _library_locals(error)
    assert "oauth_signature" not in text and "token-secret" not in text
