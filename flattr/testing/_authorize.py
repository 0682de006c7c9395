"""The user-authorisation step: ``/oauth/authenticate`` (and its alias ``/oauth/connect``).

GET shows the consent page for a pending request token; POST carries the
user's decision. Allow redirects to the callback with ``oauth_token`` and
``oauth_verifier`` (or shows a PIN page for ``oob``); Deny redirects with
``denied=<token>`` (or shows a "denied" page).
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable, Iterable
from urllib.parse import urlencode, urlsplit, urlunsplit

from . import _pages
from ._store import FakeUser, RequestToken, Store, normalize_scopes
from ._wire import HTML_TYPE, Incoming, Outgoing


def parse_access_scope(raw: str | None) -> tuple[str, ...]:
    """Turn an ``access_scope`` value into known scopes (``read`` when none).

    :param raw: e.g. ``read,publish`` (already URL-decoded), or ``None``.
    """
    scopes = normalize_scopes((raw or "").split(","))
    return scopes or ("read",)


def add_query(url: str, params: Iterable[tuple[str, str]]) -> str:
    """Append ``params`` to the query of ``url``, keeping what is there.

    :returns: the new URL (any fragment stays at the end).
    """
    parts = urlsplit(url)
    extra = urlencode(list(params))
    query = f"{parts.query}&{extra}" if parts.query else extra
    return urlunsplit(parts._replace(query=query))


def _error(status: int, message: str) -> Outgoing:
    return Outgoing(status, HTML_TYPE, _pages.error_page(message))


class Authorizer:
    """Consent decisions for request tokens.

    :param store: the shared state.
    :param session_user: returns the user "logged in" on the consent page.
    """

    def __init__(self, store: Store, session_user: Callable[[], FakeUser]) -> None:
        self.store = store
        self.session_user = session_user

    def _pending(self, key: str) -> RequestToken | None:
        with self.store.lock:
            token = self.store.request_tokens.get(key)
            return token if token is not None and token.state == "pending" else None

    def approve(self, key: str, user: FakeUser, scopes: Iterable[str]) -> str:
        """Approve a pending request token for ``user``.

        :returns: the verifier.
        :raises KeyError: the token is unknown or no longer pending.
        """
        with self.store.lock:
            token = self._pending(key)
            if token is None:
                raise KeyError("no pending request token with that key")
            self.store.approve_request_token(
                token, user.id, normalize_scopes(scopes) or ("read",), secrets.token_hex(8)
            )
            return token.verifier

    def deny(self, key: str) -> None:
        """Refuse a pending request token.

        :raises KeyError: the token is unknown or no longer pending.
        """
        with self.store.lock:
            token = self._pending(key)
            if token is None:
                raise KeyError("no pending request token with that key")
            self.store.deny_request_token(token)

    def handle(self, req: Incoming) -> Outgoing:
        """Answer GET (the page) or POST (the decision) on the consent path."""
        if req.method == "GET":
            return self._page(req)
        if req.method == "POST":
            return self._decide(req)
        return Outgoing(
            405, HTML_TYPE, _pages.error_page("Use GET or POST."), [("Allow", "GET, POST")]
        )

    def _page(self, req: Incoming) -> Outgoing:
        query = dict(req.query_pairs())
        token = self._pending(query.get("oauth_token", ""))
        if token is None:
            return _error(400, "This authorisation link is unknown or was already used.")
        scopes = parse_access_scope(query.get("access_scope"))
        with self.store.lock:
            app_name = self.store.consumers[token.consumer_key].name
        body = _pages.consent_page(
            action=req.path,
            app_name=app_name,
            username=self.session_user().username,
            scopes=scopes,
            token=token.key,
            access_scope=",".join(scopes),
            form_key=token.form_key,
        )
        return Outgoing(200, HTML_TYPE, body, [("Cache-Control", "no-store")])

    def _decide(self, req: Incoming) -> Outgoing:
        try:
            form = dict(req.form_pairs())
        except UnicodeDecodeError:
            return _error(400, "The form was not UTF-8.")
        token = self._pending(form.get("oauth_token", ""))
        if token is None:
            return _error(400, "This authorisation link is unknown or was already used.")
        if not hmac.compare_digest(form.get("form_key", "").encode(), token.form_key.encode()):
            return _error(400, "The form is stale; open the authorisation link again.")
        decision = form.get("decision")
        with self.store.lock:
            app_name = self.store.consumers[token.consumer_key].name
        if decision == "allow":
            verifier = self.approve(
                token.key, self.session_user(), parse_access_scope(form.get("access_scope"))
            )
            if token.callback == "oob":
                return Outgoing(200, HTML_TYPE, _pages.pin_page(app_name, verifier))
            target = add_query(
                token.callback, [("oauth_token", token.key), ("oauth_verifier", verifier)]
            )
        elif decision == "deny":
            self.deny(token.key)
            if token.callback == "oob":
                return Outgoing(200, HTML_TYPE, _pages.denied_page(app_name))
            target = add_query(token.callback, [("denied", token.key)])
        else:
            return _error(400, "Choose Allow or Deny.")
        return Outgoing(302, HTML_TYPE, b"", [("Location", target), ("Cache-Control", "no-store")])
