"""The headless consent walk: what a browser does with an authorize URL, over real HTTP.

Both API generations show a consent page with a form; pressing Allow or
Deny submits it, and Flattr either redirects to the application's callback
or shows a page with the code to type in. :func:`walk_v1` (OAuth 1.0a) and
:func:`walk_v2` (OAuth 2) do that with a minimal user agent that never
follows redirects, so the callback URL is read rather than visited.
"""

from __future__ import annotations

import http.client
import ssl
from collections.abc import Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

__all__ = [
    "Browser",
    "ConsentError",
    "ConsentResult",
    "OAuth2Consent",
    "plain_browser",
    "walk_v1",
    "walk_v2",
]

#: Fetches one URL: ``(method, url, form body or None) -> (status, Location, body)``.
Browser = Callable[[str, str, "bytes | None"], "tuple[int, str | None, bytes]"]
_REDIRECTS = (301, 302, 303, 307)


@dataclass(frozen=True, slots=True)
class ConsentResult:
    """What the browser ended up with after the 0.0.1 consent page.

    :param redirect_url: where Flattr redirected (``None`` for ``oob``).
    :param verifier: the ``oauth_verifier`` (``None`` when denied).
    :param denied: whether the user pressed Deny.
    """

    redirect_url: str | None = field(repr=False)
    verifier: str | None = field(repr=False)
    denied: bool


@dataclass(frozen=True, slots=True)
class OAuth2Consent:
    """Where the browser ended up after the v2 consent page.

    :param redirect_url: the redirect's target (``None`` when a page showed the code).
    :param code: the authorisation code (``None`` when denied or on error).
    :param state: the ``state`` sent back, if any.
    :param error: the ``error`` sent back (``access_denied``, ``invalid_scope`` ...).
    :param access_token: the token of an implicit-flow redirect (``response_type=token``).
    """

    redirect_url: str | None = field(repr=False)
    code: str | None = field(repr=False)
    state: str | None
    error: str | None
    access_token: str | None = field(default=None, repr=False)


class ConsentError(RuntimeError):
    """The walk met something a browser would show as an error (no consent page)."""


class _Form(HTMLParser):
    """A consent page's form (action, hidden fields, buttons) and the code it shows.

    The code is the text of the element whose id is ``verifier`` (0.0.1) or
    ``code`` (v2).
    """

    def __init__(self, code_id: str) -> None:
        super().__init__()
        self.action: str | None = None
        self.fields: dict[str, str] = {}
        self.buttons: dict[str, tuple[str, str]] = {}
        self.code: str | None = None
        self._code_id = code_id
        self._in_code = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.action = a.get("action", "")
        elif tag == "input" and a.get("type") == "hidden":
            self.fields[a.get("name", "")] = a.get("value", "")
        elif tag == "button" and "id" in a:
            self.buttons[a["id"]] = (a.get("name", ""), a.get("value", ""))
        if a.get("id") == self._code_id:
            self._in_code = True

    def handle_endtag(self, tag: str) -> None:
        self._in_code = False

    def handle_data(self, data: str) -> None:
        if self._in_code:
            self.code = (self.code or "") + data.strip()


def _read(page: bytes, code_id: str) -> _Form:
    form = _Form(code_id)
    form.feed(page.decode("utf-8"))
    return form


def plain_browser(ca_bundle: str | None) -> Browser:
    """A one-request-per-connection HTTP(S) user agent that does not follow redirects.

    :param ca_bundle: a PEM bundle to trust for HTTPS (the fake's test CA).
    """

    def fetch(method: str, url: str, body: bytes | None) -> tuple[int, str | None, bytes]:
        parts = urlsplit(url)
        conn: http.client.HTTPConnection
        if parts.scheme == "https":
            context = ssl.create_default_context(cafile=ca_bundle)
            conn = http.client.HTTPSConnection(
                parts.hostname or "", parts.port or 443, timeout=10, context=context
            )
        else:
            conn = http.client.HTTPConnection(parts.hostname or "", parts.port or 80, timeout=10)
        headers = {"Content-Type": "application/x-www-form-urlencoded"} if body is not None else {}
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        try:
            conn.request(method, target, body=body, headers=headers)
            answer = conn.getresponse()
            return answer.status, answer.getheader("Location"), answer.read()
        finally:
            conn.close()

    return fetch


def _press(
    browser: Browser, authorize_url: str, form: _Form, *, allow: bool
) -> tuple[int, str | None, bytes]:
    """Submit the consent form with Allow or Deny."""
    button = form.buttons.get("allow" if allow else "deny")
    if form.action is None or button is None:
        raise ConsentError("no consent form on the page")
    fields = {**form.fields, button[0]: button[1]}
    return browser("POST", urljoin(authorize_url, form.action), urlencode(fields).encode())


def walk_v1(browser: Browser, authorize_url: str, *, allow: bool) -> ConsentResult:
    """The 0.0.1 consent page: GET it, press Allow or Deny, read the redirect or the PIN.

    :raises ConsentError: the page was not a consent page (unknown or used token, ...).
    """
    status, _, page = browser("GET", authorize_url, None)
    if status != 200:
        raise ConsentError(f"the consent page answered {status}")
    status, location, page = _press(browser, authorize_url, _read(page, "verifier"), allow=allow)
    if status in _REDIRECTS and location:
        query = parse_qs(urlsplit(location).query)
        verifier = query.get("oauth_verifier", [None])[-1]
        return ConsentResult(location, verifier, "denied" in query)
    if status != 200:
        raise ConsentError(f"submitting the consent form answered {status}")
    shown = _read(page, "verifier")
    return ConsentResult(None, shown.code, shown.code is None)


def _from_redirect(location: str) -> OAuth2Consent:
    parts = urlsplit(location)
    found = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    found.update({k: v[-1] for k, v in parse_qs(parts.fragment).items()})
    return OAuth2Consent(
        redirect_url=location,
        code=found.get("code"),
        state=found.get("state"),
        error=found.get("error"),
        access_token=found.get("access_token"),
    )


def walk_v2(browser: Browser, authorize_url: str, *, allow: bool) -> OAuth2Consent:
    """The v2 consent page: GET it, press Allow or Deny, read the redirect or the code.

    An authorize request the server refuses by redirect (``invalid_scope``
    ...) comes back the same way as a consent.

    :raises ConsentError: no consent page (unknown client, redirect mismatch ...).
    """
    status, location, page = browser("GET", authorize_url, None)
    if status in _REDIRECTS and location:
        return _from_redirect(location)
    if status != 200:
        raise ConsentError(f"the authorize page answered {status}")
    status, location, page = _press(browser, authorize_url, _read(page, "code"), allow=allow)
    if status in _REDIRECTS and location:
        return _from_redirect(location)
    if status != 200:
        raise ConsentError(f"submitting the consent form answered {status}")
    shown = _read(page, "code")
    return OAuth2Consent(
        redirect_url=None,
        code=shown.code,
        state=None,
        error=None if shown.code else "access_denied",
    )
