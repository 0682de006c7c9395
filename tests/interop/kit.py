"""A loopback OAuth 1.0a provider built from oauthlib's server endpoints, serving the 0.0.1 paths.

Every OAuth rule is oauthlib's, with its ``RequestValidator``'s default limits
(keys, tokens, nonces and verifiers of 20 to 30 letters and digits, a
600-second timestamp window). ``enforce_ssl`` is off because this server
listens on 127.0.0.1 only. The REST answers are minimal 0.0.1 documents
built with FakeFlattr's XML serialiser; no code of FakeFlattr decides
whether a request is accepted.
"""

from __future__ import annotations

import http.server
import threading
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from oauthlib.common import Request as OAuthRequest
from oauthlib.oauth1 import (
    AccessTokenEndpoint,
    AuthorizationEndpoint,
    RequestTokenEndpoint,
    RequestValidator,
    ResourceEndpoint,
)
from oauthlib.oauth1.rfc5849 import errors as oauth_errors

from flattr.testing import _xmlout
from flattr.testing._store import FakeThing, FakeUser

CONSUMER_KEY = "interopConsumerKey2011"  # 22 letters and digits: within oauthlib's 20-30
CONSUMER_SECRET = "interop-consumer-secret"
CALLBACK = "http://127.0.0.1:9/callback"
SCOPES = ("read", "click", "publish", "extendedread")
REST = "/rest/0.0.1/"

ALICE = FakeUser(id=1, username="alice", firstname="Alice", language="en_GB")
BOB = FakeUser(id=2, username="bob", language="sv_SE")


def _thing(
    owner: FakeUser, *, int_id: int, title: str, url: str, tags: tuple[str, ...]
) -> FakeThing:
    return FakeThing(
        id=f"{int_id:032x}",
        int_id=int_id,
        owner=owner,
        url=url,
        title=title,
        description="A post written for the interoperability tests.",
        tags=tags,
        created=1288339264,
    )


@dataclass
class Records:
    """What the provider issued and saw, behind one lock."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    request_tokens: dict[str, dict[str, Any]] = field(default_factory=dict)
    access_tokens: dict[str, dict[str, Any]] = field(default_factory=dict)
    nonces: set[tuple[str, str, str, str]] = field(default_factory=set)
    #: (method, path, status, oauthlib's verdict or error) of every request.
    log: list[tuple[str, str, int, str]] = field(default_factory=list)


class Validator(RequestValidator):  # type: ignore[misc]
    """oauthlib's validator with its default limits; only storage is ours."""

    enforce_ssl = False  # loopback only: the one default changed on purpose
    realms = list(SCOPES)  # Flattr's scopes play the part of OAuth realms

    def __init__(self, records: Records) -> None:
        super().__init__()
        self.records = records

    # -- the dummies oauthlib signs with when something is unknown (timing safety)
    @property
    def dummy_client(self) -> str:
        return "dummyClientKeyForTiming"

    @property
    def dummy_request_token(self) -> str:
        return "dummyRequestTokenForTiming"

    @property
    def dummy_access_token(self) -> str:
        return "dummyAccessTokenForTiming"

    # -- clients
    def validate_client_key(self, client_key: str, request: OAuthRequest) -> bool:
        return client_key == CONSUMER_KEY

    def get_client_secret(self, client_key: str, request: OAuthRequest) -> str:
        return CONSUMER_SECRET if client_key == CONSUMER_KEY else "dummy-secret"

    def validate_timestamp_and_nonce(
        self,
        client_key: str,
        timestamp: str,
        nonce: str,
        request: OAuthRequest,
        request_token: str | None = None,
        access_token: str | None = None,
    ) -> bool:
        key = (client_key, timestamp, nonce, request_token or access_token or "")
        with self.records.lock:
            if key in self.records.nonces:
                return False
            self.records.nonces.add(key)
        return True

    def validate_redirect_uri(
        self, client_key: str, redirect_uri: str, request: OAuthRequest
    ) -> bool:
        return redirect_uri == "oob" or redirect_uri.startswith("http://127.0.0.1:")

    def get_default_realms(self, client_key: str, request: OAuthRequest) -> list[str]:
        return list(SCOPES)

    def validate_requested_realms(
        self, client_key: str, realms: list[str], request: OAuthRequest
    ) -> bool:
        return set(realms) <= set(SCOPES)

    # -- request tokens
    def save_request_token(self, token: dict[str, Any], request: OAuthRequest) -> None:
        with self.records.lock:
            self.records.request_tokens[token["oauth_token"]] = {
                "secret": token["oauth_token_secret"],
                "callback": request.redirect_uri,
                "realms": request.realms or list(SCOPES),
                "verifier": None,
            }

    def verify_request_token(self, token: str, request: OAuthRequest) -> bool:
        return token in self.records.request_tokens

    def verify_realms(self, token: str, realms: list[str], request: OAuthRequest) -> bool:
        return set(realms) <= set(self.records.request_tokens[token]["realms"])

    def get_realms(self, token: str, request: OAuthRequest) -> list[str]:
        found = self.records.request_tokens.get(token)
        return list(found["realms"]) if found else []

    def get_redirect_uri(self, token: str, request: OAuthRequest) -> str:
        return str(self.records.request_tokens[token]["callback"])

    def save_verifier(self, token: str, verifier: dict[str, Any], request: OAuthRequest) -> None:
        with self.records.lock:
            entry = self.records.request_tokens[token]
            entry["verifier"] = verifier["oauth_verifier"]
            entry["realms"] = request.realms or entry["realms"]

    def validate_request_token(self, client_key: str, token: str, request: OAuthRequest) -> bool:
        return token in self.records.request_tokens

    def get_request_token_secret(self, client_key: str, token: str, request: OAuthRequest) -> str:
        found = self.records.request_tokens.get(token)
        return str(found["secret"]) if found else "dummy-secret"

    def validate_verifier(
        self, client_key: str, token: str, verifier: str, request: OAuthRequest
    ) -> bool:
        found = self.records.request_tokens.get(token)
        if found is None or found["verifier"] is None:
            return False
        request.realms = found["realms"]
        return bool(found["verifier"] == verifier)

    def invalidate_request_token(
        self, client_key: str, request_token: str, request: OAuthRequest
    ) -> None:
        with self.records.lock:
            self.records.request_tokens.pop(request_token, None)

    # -- access tokens
    def save_access_token(self, token: dict[str, Any], request: OAuthRequest) -> None:
        with self.records.lock:
            self.records.access_tokens[token["oauth_token"]] = {
                "secret": token["oauth_token_secret"],
                "realms": list(request.realms or ()),
            }

    def validate_access_token(self, client_key: str, token: str, request: OAuthRequest) -> bool:
        return token in self.records.access_tokens

    def get_access_token_secret(self, client_key: str, token: str, request: OAuthRequest) -> str:
        found = self.records.access_tokens.get(token)
        return str(found["secret"]) if found else "dummy-secret"

    def validate_realms(
        self,
        client_key: str,
        token: str,
        request: OAuthRequest,
        uri: str | None = None,
        realms: list[str] | None = None,
    ) -> bool:
        found = self.records.access_tokens.get(token)
        return found is not None and set(realms or ()) <= set(found["realms"])


def _scope_for(method: str, segments: list[str]) -> str | None:
    """The scope a 0.0.1 resource needs, or ``None`` for an unknown path."""
    match segments:
        case ["thing", "click", "id", _]:
            return "click" if method == "GET" else None
        case ["thing", "register"]:
            return "publish" if method == "POST" else None
        case (
            ["user", "me"]
            | ["user", "get", "id" | "name", _]
            | ["thing", "get", "id", _]
            | ["thing", "get"]
            | ["thing", "listbyuser", "id"]
            | ["thing", "listbyuser", "id", _]
            | ["thing", "search", "q", _]
            | ["thing", "browse", *_]
            | ["feed", "categories" | "languages"]
        ):
            return "read" if method == "GET" else None
    return None


class Provider:
    """The provider on 127.0.0.1, port 0. Use as a context manager; it always stops."""

    def __init__(self) -> None:
        self.records = Records()
        self.validator = Validator(self.records)
        self.request_endpoint = RequestTokenEndpoint(self.validator)
        self.authorization_endpoint = AuthorizationEndpoint(self.validator)
        self.access_endpoint = AccessTokenEndpoint(self.validator)
        self.resource_endpoint = ResourceEndpoint(self.validator)
        hello = "http://bob.example.org/hello"
        self.things = [
            _thing(BOB, int_id=7, title="Hello Flattr", url=hello, tags=("a", "b")),
            _thing(
                ALICE, int_id=8, title="Alice writes", url="http://alice.example.org/1", tags=()
            ),
        ]
        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> Provider:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def stop(self) -> None:
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join(timeout=10)
        self._server.server_close()

    # -- answering

    def answer(
        self, method: str, uri: str, body: str, headers: dict[str, str]
    ) -> tuple[int, dict[str, str], bytes, str]:
        """(status, headers, body, verdict) for one request."""
        parts = urlsplit(uri)
        if parts.path == "/oauth/request_token":
            h, b, s = self.request_endpoint.create_request_token_response(
                uri, http_method=method, body=body, headers=headers
            )
            return s, dict(h), (b or "").encode(), "request_token"
        if parts.path == "/oauth/authenticate":
            return self._authorize(uri)
        if parts.path == "/oauth/access_token":
            h, b, s = self.access_endpoint.create_access_token_response(
                uri, http_method=method, body=body, headers=headers
            )
            return s, dict(h), (b or "").encode(), "access_token"
        if parts.path.startswith(REST):
            segments = [unquote(s) for s in parts.path[len(REST) :].split("/")]
            if segments and segments[-1] == "":
                segments.pop()
            scope = _scope_for(method, segments)
            if scope is None:
                return 404, {}, b"", "no such resource"
            valid, _ = self.resource_endpoint.validate_protected_resource_request(
                uri, http_method=method, body=body, headers=headers, realms=[scope]
            )
            if not valid:
                return 401, {}, b"", "refused by oauthlib"
            status, document = self._rest(segments, parts.query, body)
            return status, {"Content-Type": "text/xml; charset=utf-8"}, document, "resource"
        return 404, {}, b"", "no such path"

    def _authorize(self, uri: str) -> tuple[int, dict[str, str], bytes, str]:
        """The user's consent, granted at once for the scopes in ``access_scope``."""
        query = parse_qs(urlsplit(uri).query)
        realms = query.get("access_scope", ["read"])[0].split(",")
        try:
            h, b, s = self.authorization_endpoint.create_authorization_response(
                uri, http_method="GET", realms=realms
            )
        except oauth_errors.OAuth1Error as exc:
            return exc.status_code, {}, exc.urlencoded.encode(), "authorize refused"
        return s, dict(h), (b or "").encode(), "authorized"

    def _rest(self, segments: list[str], query: str, body: str) -> tuple[int, bytes]:
        def things(selected: list[FakeThing]) -> bytes:
            return _xmlout.envelope([_xmlout.thing_node(t, "ok") for t in selected])

        def user(who: FakeUser) -> bytes:
            count = sum(t.owner is who for t in self.things)
            return _xmlout.envelope([_xmlout.user_node(who, thingcount=count, with_email=False)])

        by_id = {t.id: t for t in self.things} | {str(t.int_id): t for t in self.things}
        users = {u.username: u for u in (ALICE, BOB)} | {str(u.id): u for u in (ALICE, BOB)}
        match segments:
            case ["user", "me"]:
                return 200, user(ALICE)
            case ["user", "get", "id" | "name", key] if key in users:
                return 200, user(users[key])
            case ["thing", "get", "id", key] if key in by_id:
                return 200, things([by_id[key]])
            case ["thing", "get"]:
                url = parse_qs(query).get("url", [""])[0]
                found = [t for t in self.things if t.url == url]
                return (200, things(found)) if found else (404, _xmlout.error_document(404, "no"))
            case ["thing", "listbyuser", "id", *rest]:
                who = users.get(rest[0], ALICE) if rest else ALICE
                return 200, things([t for t in self.things if t.owner is who])
            case ["thing", "click", "id", key] if key in by_id:
                return 200, _xmlout.envelope()
            case ["thing", "register"]:
                data = parse_qs(body).get("data", [""])[0]
                new = _thing(
                    ALICE, int_id=9, title="Registered", url="http://new.example/", tags=()
                )
                return (200, things([new])) if "<thing>" in data else (500, b"")
            case ["thing", "search", "q", text]:
                return 200, things([t for t in self.things if text.lower() in t.title.lower()])
            case ["thing", "browse", *_]:
                return 200, things(self.things)
            case ["feed", "categories"]:
                return 200, _xmlout.categories_document()
            case ["feed", "languages"]:
                return 200, _xmlout.languages_document()
        return 404, _xmlout.error_document(404, "not found")


def _handler_for(provider: Provider) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length).decode("utf-8") if length else ""
            uri = f"http://{self.headers.get('Host', '127.0.0.1')}{self.path}"
            headers = {name: value for name, value in self.headers.items()}
            try:
                status, out_headers, out, verdict = provider.answer(
                    self.command, uri, body, headers
                )
            except oauth_errors.OAuth1Error as exc:  # raised, not answered, by some endpoints
                status, out_headers, out, verdict = (
                    exc.status_code,
                    {"Content-Type": "application/x-www-form-urlencoded"},
                    exc.urlencoded.encode(),
                    "refused",
                )
            with provider.records.lock:
                provider.records.log.append((self.command, urlsplit(uri).path, status, verdict))
            self.send_response(status)
            for name, value in out_headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(out)))
            self.end_headers()
            self.wfile.write(out)

        do_GET = do_POST = _serve

        def log_message(self, format: str, *args: Any) -> None:
            pass  # the tests read provider.records.log instead

    return Handler
