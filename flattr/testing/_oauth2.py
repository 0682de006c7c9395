"""The OAuth 2 provider of API v2: ``/oauth/authorize`` (consent page) and ``/oauth/token``.

The authorisation-code flow (and the implicit flow) as Flattr documented
it for API v2 (OAuth 2 draft 21): codes live :data:`~._v2store.CODE_LIFETIME` seconds, work once
and are bound to the client and the redirect URI; the token endpoint takes
HTTP Basic client authentication (or ``client_id``/``client_secret`` in the
body) and answers RFC 6749 JSON errors.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import re
from collections.abc import Callable
from html import escape
from typing import Final
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit, urlunsplit

from . import _pages
from ._store import FakeUser
from ._v2store import CODE_LIFETIME, SCOPES_V2, AuthCode, AuthRequest, V2Store, random_text
from ._wire import HTML_TYPE, Incoming, Outgoing

__all__ = [
    "AUTHORIZE_PATH",
    "OAuth2Provider",
    "TOKEN_PATH",
    "split_scopes",
]

AUTHORIZE_PATH = "/oauth/authorize"
#: Consent pages shown and not yet answered that are remembered; past it the
#: oldest is forgotten (its form then answers "unknown or already answered").
MAX_PENDING_REQUESTS: Final = 1000
TOKEN_PATH = "/oauth/token"
_TOKEN_TYPE = "application/json; charset=utf-8"
_NO_CACHE = [
    ("Cache-Control", "no-store"),
    ("Pragma", "no-cache"),
    ("Expires", "Thu, 19 Nov 1981 08:52:00 GMT"),
]

#: Plain words for each v2 scope, as the consent page lists them.
SCOPE_WORDS = {
    "flattr": "Flattr things and manage your subscriptions",
    "thing": "Create, update and delete things in your name",
    "email": "See your e-mail address",
    "extendedread": "See your private details and find your hidden things",
}


def split_scopes(raw: str) -> list[str]:
    """Split a ``scope`` value on spaces, ``+`` and commas (all three were used)."""
    return [s for s in re.split(r"[ +,]+", raw) if s]


def _add_params(url: str, params: list[tuple[str, str]], *, fragment: bool = False) -> str:
    parts = urlsplit(url)
    extra = urlencode(params)
    if fragment:
        return urlunsplit(parts._replace(fragment=extra))
    query = f"{parts.query}&{extra}" if parts.query else extra
    return urlunsplit(parts._replace(query=query))


def _html(status: int, message: str) -> Outgoing:
    return Outgoing(status, HTML_TYPE, _pages.error_page(message), [("Cache-Control", "no-store")])


def _redirect(target: str) -> Outgoing:
    return Outgoing(302, HTML_TYPE, b"", [("Location", target), ("Cache-Control", "no-store")])


def _token_error(status: int, error: str, description: str) -> Outgoing:
    headers = list(_NO_CACHE)
    if error == "invalid_client":
        headers.append(("WWW-Authenticate", 'Basic realm="flattr"'))
    body = json.dumps({"error": error, "error_description": description}).encode()
    return Outgoing(status, _TOKEN_TYPE, body, headers)


class _TokenRefusal(Exception):
    def __init__(self, status: int, error: str, description: str) -> None:
        super().__init__(description)
        self.answer = _token_error(status, error, description)


def consent_page_v2(req: AuthRequest, app_name: str, username: str) -> bytes:
    """The page asking the logged-in user to allow or deny a v2 application."""
    items = "\n".join(f"<li>{escape(SCOPE_WORDS[s])}</li>" for s in req.scopes)
    items = items or "<li>See your public profile and things</li>"
    body = (
        f"<h1>Allow {escape(app_name)} to use your Flattr account?</h1>\n"
        f'<p>You are logged in as <strong id="username">{escape(username)}</strong>.</p>\n'
        f'<p><strong id="app">{escape(app_name)}</strong> asks to:</p>\n'
        f'<ul id="scopes">\n{items}\n</ul>\n'
        f'<form method="post" action="{AUTHORIZE_PATH}">\n'
        f'<input type="hidden" name="request" value="{escape(req.key)}">\n'
        f'<input type="hidden" name="form_key" value="{escape(req.form_key)}">\n'
        '<button type="submit" id="allow" name="decision" value="allow">Allow</button>\n'
        '<button type="submit" id="deny" name="decision" value="deny">Deny</button>\n'
        "</form>"
    )
    return _pages._page("Authorize application - Flattr", body)


def code_page(app_name: str, code: str) -> bytes:
    """For applications without a redirect URI: the code to copy by hand."""
    body = (
        f"<h1>You allowed {escape(app_name)}</h1>\n"
        "<p>Copy this code into the application to finish:</p>\n"
        f'<p id="code">{escape(code)}</p>'
    )
    return _pages._page("Your code - Flattr", body)


class OAuth2Provider:
    """Answers ``/oauth/authorize`` and ``/oauth/token``.

    :param v2: the v2 state (clients, codes, tokens).
    :param session_user: the user "logged in" on the consent page.
    """

    def __init__(self, v2: V2Store, session_user: Callable[[], FakeUser]) -> None:
        self.v2 = v2
        self.session_user = session_user

    def handle(self, req: Incoming) -> Outgoing:
        """Route one request to the authorize page, the decision or the token endpoint."""
        if req.path == TOKEN_PATH:
            if req.method != "POST":
                refusal = _token_error(405, "invalid_request", "use POST")
                refusal.headers.append(("Allow", "POST"))
                return refusal
            return self.token(req)
        if req.method == "GET":
            return self._authorize(req)
        if req.method == "POST":
            return self._decide(req)
        return Outgoing(
            405, HTML_TYPE, _pages.error_page("Use GET or POST."), [("Allow", "GET, POST")]
        )

    # -- authorize --------------------------------------------------------

    def _authorize(self, req: Incoming) -> Outgoing:
        query = dict(req.query_pairs())
        client = self.v2.clients.get(query.get("client_id", ""))
        if client is None:
            return _html(400, "Bad request: unknown or missing client_id.")
        sent = query.get("redirect_uri") or None
        if sent is not None and sent != client.redirect_uri:
            return _html(400, "Bad request: redirect_uri does not match the application.")
        target = sent or client.redirect_uri
        state = query.get("state")
        response_type = query.get("response_type", "")

        def refuse(error: str, description: str) -> Outgoing:
            if target is None:
                return _html(400, f"{error}: {description}")
            params = [("error", error), ("error_description", description)]
            if state is not None:
                params.append(("state", state))
            return _redirect(_add_params(target, params, fragment=response_type == "token"))

        if response_type not in ("code", "token"):
            return refuse("unsupported_response_type", "response_type must be code or token")
        names = split_scopes(query.get("scope", ""))
        unknown = [n for n in names if n not in SCOPES_V2]
        if unknown:
            return refuse("invalid_scope", f"unknown scope {unknown[0]!r}")
        scopes = tuple(dict.fromkeys(names))
        pending = AuthRequest(
            key=random_text(24),
            client_id=client.client_id,
            response_type=response_type,
            redirect_uri=sent,
            target=target,
            scopes=scopes,
            state=state,
        )
        with self.v2.lock:
            pending_requests = self.v2.requests
            pending_requests[pending.key] = pending
            # Anyone may open the page without a token: keep the newest few only.
            while len(pending_requests) > MAX_PENDING_REQUESTS:
                del pending_requests[next(iter(pending_requests))]
        body = consent_page_v2(pending, client.name, self.session_user().username)
        return Outgoing(200, HTML_TYPE, body, [("Cache-Control", "no-store")])

    def _decide(self, req: Incoming) -> Outgoing:
        try:
            form = dict(req.form_pairs())
        except UnicodeDecodeError:
            return _html(400, "The form was not UTF-8.")
        with self.v2.lock:
            pending = self.v2.requests.get(form.get("request", ""))
            if pending is None:
                return _html(400, "This authorisation request is unknown or was already answered.")
            if not hmac.compare_digest(
                form.get("form_key", "").encode(), pending.form_key.encode()
            ):
                return _html(400, "The form is stale; open the authorisation link again.")
            decision = form.get("decision")
            if decision not in ("allow", "deny"):
                return _html(400, "Choose Allow or Deny.")
            del self.v2.requests[pending.key]
        client = self.v2.clients[pending.client_id]
        implicit = pending.response_type == "token"
        if decision == "deny":
            params = [("error", "access_denied"), ("error_description", "The user denied access")]
            if pending.target is None:
                return Outgoing(200, HTML_TYPE, _pages.denied_page(client.name))
        elif implicit:
            record = self.v2.new_token(client.client_id, self.session_user().id, pending.scopes)
            params = [("access_token", record.token), ("token_type", "bearer")]
            params.append(("scope", " ".join(pending.scopes)))
        else:
            code = self.issue_code(
                client.client_id, pending.redirect_uri, self.session_user(), pending.scopes
            )
            if pending.target is None:
                return Outgoing(200, HTML_TYPE, code_page(client.name, code))
            params = [("code", code)]
        if pending.state is not None:
            params.append(("state", pending.state))
        assert pending.target is not None
        return _redirect(_add_params(pending.target, params, fragment=implicit))

    def issue_code(
        self, client_id: str, redirect_uri: str | None, user: FakeUser, scopes: tuple[str, ...]
    ) -> str:
        """Issue a one-shot code for ``user`` (the consent page's Allow)."""
        code = AuthCode(
            code=random_text(32),
            client_id=client_id,
            redirect_uri=redirect_uri,
            user_id=user.id,
            scopes=scopes,
            expires=self.v2.store.clock() + CODE_LIFETIME,
        )
        with self.v2.lock:
            codes = self.v2.codes
            # Codes all live CODE_LIFETIME, so the oldest expire first: drop them
            # from the front (a reused expired code is simply unknown then).
            now = self.v2.store.clock()
            while codes:
                oldest = codes[next(iter(codes))]
                if oldest.expires >= now:
                    break
                del codes[oldest.code]
            codes[code.code] = code
        return code.code

    # -- token ------------------------------------------------------------

    def token(self, req: Incoming) -> Outgoing:
        """``POST /oauth/token``: trade a code for a bearer token."""
        try:
            return self._token(req)
        except _TokenRefusal as refusal:
            return refusal.answer

    @staticmethod
    def _params(req: Incoming) -> dict[str, str]:
        ctype = (req.header("content-type") or "").split(";", 1)[0].strip().lower()
        try:
            text = req.body.decode("utf-8")
        except UnicodeDecodeError:
            raise _TokenRefusal(400, "invalid_request", "the body is not UTF-8") from None
        if ctype == "application/json":
            try:
                loaded = json.loads(text) if text else {}
            except ValueError:
                raise _TokenRefusal(400, "invalid_request", "the body is not JSON") from None
            if not isinstance(loaded, dict) or not all(isinstance(v, str) for v in loaded.values()):
                raise _TokenRefusal(400, "invalid_request", "send a JSON object of strings")
            return {str(k): v for k, v in loaded.items()}
        pairs = parse_qsl(text, keep_blank_values=True)
        names = [k for k, _ in pairs]
        if len(names) != len(set(names)):
            raise _TokenRefusal(400, "invalid_request", "a parameter was sent twice")
        return dict(pairs)

    @staticmethod
    def _basic(req: Incoming) -> tuple[str, str] | None:
        header = req.header("authorization")
        if header is None:
            return None
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "basic":
            raise _TokenRefusal(401, "invalid_client", "use HTTP Basic client authentication")
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise _TokenRefusal(401, "invalid_client", "malformed Basic credentials") from None
        client_id, sep, secret = decoded.partition(":")
        if not sep:
            raise _TokenRefusal(401, "invalid_client", "malformed Basic credentials")
        # RFC 6749 2.3.1 form-encodes both halves before Basic; plain ids are unchanged.
        return unquote(client_id.replace("+", " ")), unquote(secret.replace("+", " "))

    def _token(self, req: Incoming) -> Outgoing:
        params = self._params(req)
        basic = self._basic(req)
        body_id, body_secret = params.get("client_id"), params.get("client_secret")
        if basic is not None:
            if (body_id is not None and body_id != basic[0]) or (
                body_secret is not None and body_secret != basic[1]
            ):
                raise _TokenRefusal(
                    400, "invalid_request", "client credentials in the header and the body differ"
                )
            client_id, secret = basic
        elif body_id is not None and body_secret is not None:
            client_id, secret = body_id, body_secret
        else:
            raise _TokenRefusal(401, "invalid_client", "client authentication is missing")
        client = self.v2.clients.get(client_id)
        if client is None or not hmac.compare_digest(
            secret.encode(), client.client_secret.encode()
        ):
            raise _TokenRefusal(401, "invalid_client", "unknown client or wrong secret")
        grant_type = params.get("grant_type")
        if not grant_type:
            raise _TokenRefusal(400, "invalid_request", "grant_type is missing")
        if grant_type != "authorization_code":
            raise _TokenRefusal(
                400, "unsupported_grant_type", "only authorization_code is supported"
            )
        code_text = params.get("code")
        if not code_text:
            raise _TokenRefusal(400, "invalid_request", "code is missing")
        with self.v2.lock:
            code = self.v2.codes.get(code_text)
            if code is None or code.client_id != client.client_id:
                raise _TokenRefusal(400, "invalid_grant", "unknown code")
            if code.used:
                # RFC 6749 4.1.2: a code used twice revokes what it gave.
                for token in code.tokens:
                    self.v2.tokens[token].revoked = True
                raise _TokenRefusal(400, "invalid_grant", "this code was already used")
            if self.v2.store.clock() > code.expires:
                raise _TokenRefusal(400, "invalid_grant", "this code has expired")
            sent = params.get("redirect_uri")
            if code.redirect_uri is not None and sent != code.redirect_uri:
                raise _TokenRefusal(
                    400, "invalid_grant", "redirect_uri differs from the authorize request"
                )
            if code.redirect_uri is None and sent is not None and sent != client.redirect_uri:
                raise _TokenRefusal(400, "invalid_grant", "redirect_uri is not the registered one")
            code.used = True
            record = self.v2.new_token(client.client_id, code.user_id, code.scopes)
            code.tokens.append(record.token)
        body = {
            "access_token": record.token,
            "token_type": "bearer",
            "scope": " ".join(code.scopes),
        }
        return Outgoing(200, _TOKEN_TYPE, json.dumps(body).encode(), list(_NO_CACHE))
