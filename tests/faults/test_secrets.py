"""No secret in any log record, repr or exception message, across a whole session.

The session runs the OAuth flow, ordinary calls and a dozen failures with
every logger (the root, flattr's, oauthlib's, the fake server's) at DEBUG,
then searches everything it captured for the consumer secret, the token
secrets, the verifier and every signature the server received.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Iterator
from urllib.parse import quote

import pytest

import flattr
from flattr._http import Credentials, Request, Transport, sign
from flattr.testing import FakeFlattr


class Capture(logging.Handler):
    """Keeps every record, formatted the way a log file would show it (tracebacks included)."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))
        self.lines: list[str] = []
        # (level, logger) only: keeping the records would keep their
        # tracebacks, and every object in them, alive past the test
        self.records: list[tuple[int, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append((record.levelno, record.name))
        self.lines.append(self.format(record))
        # the raw arguments too, in case a formatter elsewhere shows them differently
        self.lines.append(repr(record.args))


@pytest.fixture
def capture() -> Iterator[Capture]:
    handler = Capture()
    root = logging.getLogger()
    saved = {name: logger.level for name, logger in _all_loggers()}
    saved_root = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    for name in ("flattr", "oauthlib", "httplib2", "urllib3", "flattr.testing"):
        logging.getLogger(name).setLevel(logging.DEBUG)
    for _, logger in _all_loggers():
        logger.setLevel(logging.DEBUG)
        logger.disabled = False
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(saved_root)
        for name, logger in _all_loggers():
            logger.setLevel(saved.get(name, logging.NOTSET))


def _all_loggers() -> list[tuple[str, logging.Logger]]:
    return [
        (name, logger)
        for name, logger in logging.root.manager.loggerDict.items()
        if isinstance(logger, logging.Logger)
    ]


def _texts_of(error: BaseException) -> list[str]:
    return [str(error), repr(error), "".join(traceback.format_exception(error))]


def test_whole_session_leaks_nothing(fake: FakeFlattr, capture: Capture) -> None:
    seen: list[str] = []  # every str/repr of an object or error of the session
    errors: list[BaseException] = []
    waits: list[float] = []
    log = logging.getLogger("app")

    def expect(error_class: type[BaseException], call: object) -> None:
        with pytest.raises(error_class) as caught:
            call()  # type: ignore[operator]
        errors.append(caught.value)
        log.exception("the app logs the failure", exc_info=caught.value)

    consumer = fake.consumer
    auth = flattr.FlattrAuth(
        consumer.key,
        consumer.secret,
        "http://127.0.0.1:9/callback",
        base_url=fake.base_url,
        transport=Transport(timeout=5, sleep=waits.append),
    )
    # -- the OAuth flow, with a retried first leg
    fake.inject_fault("/oauth/request_token", "status", status=503, retry_after=1)
    request_token = auth.fetch_request_token()
    consent = fake.consent(auth.authorize_url(request_token, scopes=("read", "publish", "click")))
    assert consent.redirect_url is not None
    verifier = auth.parse_callback(consent.redirect_url, request_token)
    expect(flattr.OAuthError, lambda: auth.fetch_access_token(request_token, verifier + "x"))
    access = auth.fetch_access_token(request_token, verifier)
    expect(flattr.OAuthError, lambda: auth.fetch_access_token(request_token, verifier))
    forged = consent.redirect_url.replace("oauth_token=", "oauth_token=x")
    expect(flattr.OAuthError, lambda: auth.parse_callback(forged, request_token))

    # -- ordinary calls
    transport = Transport(timeout=0.5, sleep=waits.append)
    client = flattr.FlattrClient(
        consumer.key, consumer.secret, access, base_url=fake.base_url, transport=transport
    )
    bob = fake.add_user("bob")
    post = fake.add_thing(
        bob, url="http://bob.example.org/1", title="Bob's post", description="Bees"
    )
    client.me()
    thing = client.register_thing(
        url="http://alice.example.org/1",
        title="Alice's post",
        category="text",
        description="Birds",
        language="en_GB",
    )
    client.click(post.id)
    client.search("post")
    client.categories()

    # -- failures of every kind
    fake.inject_fault("/rest/0.0.1/user/me", "status", status=503)
    client.me()  # retried
    fake.inject_fault("/rest/0.0.1/user/me", "wrong_content_type")
    client.me()  # a warning
    fake.inject_fault("/rest/0.0.1/user/me", "html")
    expect(flattr.ResponseError, client.me)
    fake.inject_fault("/rest/0.0.1/user/me", "xml_bomb")
    expect(flattr.ResponseError, client.me)
    fake.inject_fault("/rest/0.0.1/user/me", "stall", seconds=0.8)
    expect(flattr.TransportError, client.me)
    fake.inject_fault("/rest/0.0.1/thing/register", "drop_after_processing")
    expect(
        flattr.UncertainResultError,
        lambda: client.register_thing(
            url="http://alice.example.org/2",
            title="Second post",
            category="text",
            description="More birds",
            language="en_GB",
        ),
    )
    expect(flattr.ForbiddenError, lambda: client.click(thing.id))  # own thing
    expect(flattr.NotFoundError, lambda: client.thing("0" * 32))
    fake.inject_fault("/rest/0.0.1/user/me", "oversize")
    expect(flattr.ResponseTooLargeError, client.me)
    fake.inject_fault("/rest/0.0.1/user/me", "drop_before_read", every=1)
    expect(flattr.TransportError, client.me)
    fake.clear_faults()
    wrong = flattr.FlattrClient(
        consumer.key, consumer.secret + "x", access, base_url=fake.base_url, timeout=5
    )
    expect(flattr.AuthenticationError, wrong.me)
    fake.revoke(access.key)
    expect(flattr.AuthenticationError, client.me)
    expect(flattr.ValidationError, lambda: flattr.FlattrClient(consumer.key, "", access))
    # a TLS failure
    with FakeFlattr(tls=True) as tls_fake:
        tls_token = tls_fake.issue_access_token()
        tls_client = flattr.FlattrClient(
            tls_fake.consumer.key, tls_fake.consumer.secret, tls_token, base_url=tls_fake.base_url
        )
        expect(flattr.TLSError, tls_client.me)
        tls_secrets = [tls_fake.consumer.secret, tls_token.secret]

    # -- what an application might print or log about its objects
    credentials = Credentials(consumer.key, consumer.secret, access.key, access.secret)
    access_request = Request(
        "POST", f"{fake.base_url}/oauth/access_token", oauth=(("oauth_verifier", verifier),)
    )
    signed = sign(access_request, credentials)
    for obj in (
        auth,
        client,
        transport,
        request_token,
        access,
        credentials,
        access_request,
        signed,
        consent,
    ):
        seen += [repr(obj), str(obj)]
    for error in errors:
        seen += _texts_of(error)
    client.close()
    auth.close()
    wrong.close()
    tls_client.close()

    # -- the secrets, and every signature that went over the wire
    secrets = {
        "consumer secret": consumer.secret,
        "request token secret": request_token.secret,
        "access token secret": access.secret,
        "verifier": verifier,
        "signature of the signed request": signed.headers["Authorization"]
        .split('oauth_signature="')[1]
        .split('"')[0],
    }
    for n, recorded in enumerate(fake.requests):
        signature = recorded.oauth_params.get("oauth_signature")
        if signature:
            secrets[f"signature #{n}"] = signature
        header = recorded.header("Authorization")
        if header:
            secrets[f"Authorization header #{n}"] = header
    for n, value in enumerate(tls_secrets):
        secrets[f"TLS fake secret #{n}"] = value

    # the capture is real: it holds the whole session at every level
    levels = {level for level, _ in capture.records}
    assert {logging.DEBUG, logging.INFO, logging.WARNING, logging.ERROR} <= levels
    names = {name for _, name in capture.records}
    assert "flattr._transport" in names and "app" in names
    assert len(capture.records) > 40
    assert len(secrets) > 30
    # and the search would find a secret if one were there
    assert consumer.secret in repr(consumer.secret)
    assert access.secret in str(access.to_dict())

    haystack = "\n".join(capture.lines + seen)
    for what, secret in secrets.items():
        assert len(secret) >= 8, what
        for form in {secret, quote(secret, safe=""), quote(secret)}:
            assert form not in haystack, f"the {what} leaked"
