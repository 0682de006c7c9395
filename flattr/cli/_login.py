"""``flattr login``: the whole OAuth flow from a terminal.

By default the command listens on ``http://127.0.0.1:<free port>/callback``,
sends that as the OAuth callback, opens the consent page in the browser and
catches the redirect itself. With ``--oob`` it uses the PIN flow instead:
it prints the consent page's address and reads the code the page shows.
"""

from __future__ import annotations

import argparse
import html
import http.server
import logging
import os
import threading
import webbrowser
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TextIO
from urllib.parse import urlsplit

from flattr import _validate
from flattr.auth import FlattrAuth
from flattr.client import FlattrClient
from flattr.errors import FlattrError, OAuthError, ValidationError
from flattr.models import RequestToken
from flattr.tokenstore import API_V1, API_V2, APIS, StoredToken

from ._errors import EXIT_USAGE, CLIError
from ._output import print_json
from ._parser import positive_float
from ._registry import Context, command

__all__ = ["CallbackServer", "DEFAULT_WAIT", "open_browser", "read_code", "run_login", "run_logout"]

log = logging.getLogger(__name__)

CALLBACK_PATH = "/callback"
#: How long ``flattr login`` waits for the browser by default (seconds).
DEFAULT_WAIT = 300.0


def open_browser(url: str) -> bool:
    """Open ``url`` in a graphical browser, if there is one.

    Console browsers (lynx, w3m ...) are not used unless ``$BROWSER`` names
    one: they would take over the terminal the command is waiting in.

    :returns: whether a browser was started.
    """
    try:
        browser = webbrowser.get()
    except webbrowser.Error:
        return False
    if type(browser) is webbrowser.GenericBrowser and not os.environ.get("BROWSER"):
        return False
    try:
        return bool(browser.open(url, new=2))
    except (OSError, webbrowser.Error):
        return False


_PAGE = (
    '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{title}</title>'
    "<style>body{{font-family:system-ui,sans-serif;max-width:32rem;margin:3rem auto;"
    'padding:0 1rem}}</style></head>\n<body><h1 id="result">{title}</h1><p>{text}</p>'
    "</body></html>\n"
)


@dataclass
class _Outcome:
    verifier: str | None = None
    error: FlattrError | None = None


class CallbackServer:
    """A one-shot HTTP server on ``127.0.0.1`` that catches the OAuth callback.

    Requests for other paths or hosts, and callbacks that do not carry the
    expected request token (forged or stale ones), are answered with an error
    page and otherwise ignored. Nothing it receives is logged: the callback
    URL holds the verifier.

    Use it as a context manager; :attr:`url` is the callback to send.
    """

    def __init__(self, port: int = 0, path: str = CALLBACK_PATH) -> None:
        self._done = threading.Event()
        self._outcome = _Outcome()
        self._parse: Callable[[str], str] | None = None
        self._lock = threading.Lock()
        self._path = path
        server = http.server.ThreadingHTTPServer(("127.0.0.1", port), self._handler_class())
        server.daemon_threads = True
        self._server = server
        self.port = int(server.server_address[1])
        self.url = f"http://127.0.0.1:{self.port}{path}"
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True
        )

    def __enter__(self) -> CallbackServer:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop listening."""
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join(timeout=5)
        self._server.server_close()

    def expect(self, auth: FlattrAuth, request_token: RequestToken) -> None:
        """Accept callbacks for ``request_token`` from now on."""
        self.expect_with(lambda target: auth.parse_callback(target, request_token))

    def expect_with(self, parse: Callable[[str], str]) -> None:
        """Accept callbacks that ``parse`` reads (it returns the verifier or code).

        :param parse: takes the request target; raises :class:`OAuthError` for a
            callback that is not this login's (``problem`` ``denied`` or
            ``access_denied`` ends the wait).
        """
        with self._lock:
            self._parse = parse

    def wait(self, timeout: float) -> str:
        """Wait for the browser to come back.

        :param timeout: seconds to wait.
        :returns: the verifier.
        :raises OAuthError: the user chose Deny (``problem="denied"``).
        :raises CLIError: nothing came back in time.
        """
        if not self._done.wait(timeout):
            raise CLIError(
                f"gave up after {timeout:g} s: the browser never came back to {self.url}. "
                "Run `flattr login` again (with a longer --wait), or use `flattr login "
                "--oob` when the browser runs on another machine"
            )
        if self._outcome.error is not None:
            raise self._outcome.error
        assert self._outcome.verifier is not None
        return self._outcome.verifier

    def _handle(self, host: str | None, target: str) -> tuple[int, str, str]:
        """Decide on one request: ``(status, title, text)`` of the page to answer with."""
        if host != f"127.0.0.1:{self.port}":
            return 400, "Wrong address", "This server only answers at 127.0.0.1."
        if urlsplit(target).path != self._path:
            return 404, "Not found", "Nothing here."
        with self._lock:
            parse = self._parse
            if self._done.is_set():
                return 200, "Already done", "You can close this page."
            if parse is None:
                return 409, "Not ready", "The login has not started yet."
            try:
                self._outcome.verifier = parse(target)
            except OAuthError as exc:
                if exc.problem not in ("denied", "access_denied"):
                    log.debug("ignored a callback: %s", exc.problem)
                    return (
                        400,
                        "Not this login",
                        "This link does not belong to the login in progress.",
                    )
                self._outcome.error = exc
                self._done.set()
                return 200, "Access denied", "flattr was not given access. You can close this page."
            self._done.set()
        return (
            200,
            "Logged in",
            "flattr has access now. You can close this page and return to the terminal.",
        )

    def _handler_class(self) -> type[http.server.BaseHTTPRequestHandler]:
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            server_version = "flattr-login"
            sys_version = ""
            timeout = 10

            def do_GET(self) -> None:
                status, title, text = owner._handle(self.headers.get("Host"), self.path)
                body = _PAGE.format(title=html.escape(title), text=html.escape(text)).encode()
                self.send_response(status)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "no-store")
                self.send_header("Referrer-Policy", "no-referrer")
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(body)
                self.close_connection = True

            def log_message(self, format: str, *args: object) -> None:
                # The request line carries the verifier: log the path alone.
                log.debug("callback server: %s %s", self.command, urlsplit(self.path).path)

        return Handler


def _parse_scopes(values: list[str] | None) -> tuple[str, ...]:
    try:
        return _validate.scopes(",".join(values or ["read"]))
    except ValidationError as exc:
        raise CLIError(f"--scope: {exc.message}", EXIT_USAGE) from None


def read_code(stdin: TextIO, stderr: TextIO, again: str = "flattr login --oob") -> str:
    """Read the code the consent page showed from ``stdin`` (prompting on ``stderr``).

    :param again: the command to suggest when nothing was entered.
    :raises CLIError: an empty line.
    """
    stderr.write("Code shown on the page: ")
    stderr.flush()
    line = stdin.readline()
    pin = line.strip()
    if not pin:
        raise CLIError(f"no code was entered; run `{again}` again", EXIT_USAGE)
    return pin


def _login_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--api",
        choices=APIS,
        default=API_V1,
        help="which API to log in to: 0.0.1 (OAuth 1.0a, the consumer key and secret) or v2 "
        "(OAuth 2, the client id and secret); the profile remembers it (default: 0.0.1)",
    )
    parser.add_argument(
        "--scope",
        action="append",
        metavar="SCOPES",
        default=None,
        help="scopes to ask for, comma-separated or repeated: for 0.0.1 read, click, "
        "publish, extendedread (default: read); for v2 flattr, thing, email, extendedread "
        "(default: none, which reads public data and your own)",
    )
    parser.add_argument(
        "--oob",
        action="store_true",
        default=False,
        help="PIN flow: print the consent page's address and read the code it shows "
        "(for a browser on another machine; for v2, an application registered without "
        "a redirect URI)",
    )
    parser.add_argument(
        "--redirect-uri",
        default=None,
        metavar="URL",
        help="v2 only: the application's registered callback, http://127.0.0.1:PORT/PATH; "
        "the login listens there (default: $FLATTR_REDIRECT_URI, config redirect_uri)",
    )
    parser.add_argument(
        "--no-browser",
        action="store_true",
        default=False,
        help="do not open a browser; print the address to open",
    )
    parser.add_argument(
        "--wait",
        type=positive_float,
        default=DEFAULT_WAIT,
        metavar="SECONDS",
        help=f"how long to wait for the browser to come back (default: {DEFAULT_WAIT:g})",
    )


@command(
    "login",
    "authorize this command for your Flattr account and store the token",
    "Run the OAuth flow: open Flattr's consent page in the browser, catch the answer on "
    "a loopback address (127.0.0.1, a free port) and store the access token under the "
    "profile. With --oob, print the page's address and read the code it shows instead. "
    "With --api v2, run OAuth 2's code flow: the answer comes to the application's "
    "registered --redirect-uri on 127.0.0.1, or with --oob the page shows the code.",
    arguments=_login_arguments,
    examples=(
        "flattr login --scope read,click,publish",
        "flattr login --no-browser --profile work",
        "flattr login --oob",
        "flattr login --api v2 --scope flattr,thing --redirect-uri http://127.0.0.1:8713/callback",
        "flattr login --api v2 --oob --scope flattr",
    ),
)
def run_login(ctx: Context) -> int:
    """Run ``flattr login``."""
    if ctx.args.api == API_V2:
        from ._login_v2 import run_login_v2

        return run_login_v2(ctx)
    if ctx.args.redirect_uri is not None:
        raise CLIError("--redirect-uri is for --api v2 (0.0.1 sends its own callback)", EXIT_USAGE)
    args, settings, err, stdin = ctx.args, ctx.settings, ctx.err, ctx.stdin
    scopes = _parse_scopes(args.scope)
    key, secret = settings.consumer()
    base_url = settings.base_url()
    store = settings.store()
    # A damaged token there stops us before anything is sent (it is never overwritten silently).
    previous = store.load(settings.profile)

    connection: dict[str, Any] = {
        "base_url": base_url,
        "ca_certs": settings.ca_certs,
        "timeout": settings.timeout,
    }

    def say(text: str) -> None:
        print(text, file=err, flush=True)

    if args.oob:
        auth = FlattrAuth(key, secret, "oob", **connection)
        request_token = auth.fetch_request_token()
        url = auth.authorize_url(request_token, scopes)
        say("Open this page in a browser, choose Allow and type the code it shows:")
        say(f"\n    {url}\n")
        verifier = read_code(stdin, err)
    else:
        with CallbackServer() as server:
            auth = FlattrAuth(key, secret, server.url, **connection)
            request_token = auth.fetch_request_token()
            server.expect(auth, request_token)
            url = auth.authorize_url(request_token, scopes)
            if not args.no_browser and open_browser(url):
                say("Your browser shows Flattr's consent page now. If it does not, open:")
            else:
                say("Open this page in a browser on this machine and choose Allow:")
            say(f"\n    {url}\n")
            say(f"Waiting for the browser to come back (up to {args.wait:g} s; Ctrl-C stops)...")
            verifier = server.wait(args.wait)
    access_token = auth.fetch_access_token(request_token, verifier)
    auth.close()
    username: str | None = None
    with FlattrClient(key, secret, access_token, **connection) as client:
        try:
            username = client.me().username
        except FlattrError as exc:
            log.debug("user/me after login failed: %s", exc)
    record = StoredToken(
        token=access_token,
        consumer_key=key,
        base_url=base_url,
        scopes=scopes,
        username=username,
    )
    return save_login(ctx, record, previous=previous)


def save_login(
    ctx: Context,
    record: StoredToken,
    *,
    previous: StoredToken | None,
    facts: dict[str, object] | None = None,
    where_to: str = "",
) -> int:
    """Store a new login's token under the profile and say so (text, or ``--json``).

    :param record: the token and what it came with.
    :param previous: the token the profile held before, if any.
    :param facts: more fields for the JSON answer (the API, the OAuth server).
    :param where_to: words after "Logged in" for the text (``" to API v2"``).
    """
    settings, out = ctx.settings, ctx.out
    store = settings.store()
    where = store.describe(settings.profile)
    store.save(settings.profile, record)
    if ctx.json:
        print_json(
            {
                "profile": settings.profile,
                **(facts or {}),
                "username": record.username,
                "base_url": record.base_url,
                "scopes": list(record.scopes),
                "stored_in": where,
                "replaced": previous is not None,
            },
            out,
        )
        return 0
    who = record.username or "(unknown user)"
    granted = ",".join(record.scopes) or "none"
    print(f"Logged in{where_to} as {who} on {record.base_url} with scopes {granted}.", file=out)
    print(f"Profile {settings.profile!r}: token stored in {where}.", file=out)
    if previous is not None:
        earlier = f" (of {previous.username})" if previous.username else ""
        print(f"It replaces the profile's earlier token{earlier}.", file=out)
    return 0


@command(
    "logout",
    "forget the stored token of a profile",
    "Remove the profile's stored token (even a damaged one). The token stays valid on "
    "the server until you revoke the application in your Flattr settings.",
    examples=("flattr logout", "flattr logout --profile work"),
)
def run_logout(ctx: Context) -> int:
    """Run ``flattr logout``."""
    args, settings, out = ctx.args, ctx.settings, ctx.out
    store = settings.store()
    where = store.describe(settings.profile)
    removed = store.delete(settings.profile)
    if getattr(args, "json", False):
        print_json({"profile": settings.profile, "removed": removed, "stored_in": where}, out)
    elif removed:
        print(f"Removed the token of profile {settings.profile!r} ({where}).", file=out)
        print(
            "It stays valid on the server until you revoke the application in your Flattr "
            "settings.",
            file=out,
        )
    else:
        print(f"No token stored for profile {settings.profile!r} ({where}).", file=out)
    return 0
