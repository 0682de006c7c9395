"""``flattr login --api v2``: OAuth 2's authorization-code flow from a terminal.

API v2 sends the browser back to the redirect URI the application was
registered with, and only to it, so the loopback variant listens on the
port and path of that URI (``http://127.0.0.1:PORT/PATH``, given with
``--redirect-uri``). An application registered without one gets the code
shown on a page instead: ``--oob`` prints the consent page's address and
reads that code.
"""

from __future__ import annotations

import logging
import secrets
from typing import Any
from urllib.parse import urlsplit

from flattr import v2
from flattr.errors import FlattrError, ValidationError
from flattr.tokenstore import API_V2, StoredToken
from flattr.v2._auth import scope_names

from ._errors import EXIT_USAGE, CLIError
from ._login import CallbackServer, open_browser, read_code, save_login
from ._registry import Context

__all__ = ["loopback_redirect", "run_login_v2"]

log = logging.getLogger(__name__)


def loopback_redirect(value: str) -> tuple[int, str]:
    """The port and path of a loopback redirect URI (``http://127.0.0.1:PORT/PATH``).

    :raises CLIError: anything else (another host, no port, https, a query ...).
    """
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError:
        parts, port = None, None
    if (
        parts is None
        or parts.scheme != "http"
        or parts.hostname != "127.0.0.1"
        or not port
        or parts.query
        or parts.fragment
        or parts.username
        or parts.password
    ):
        raise CLIError(
            f"--redirect-uri: {value!r} is not http://127.0.0.1:PORT/PATH; the login can only "
            "listen on this machine's loopback address (use --oob for an application "
            "registered without a redirect URI)",
            EXIT_USAGE,
        )
    return port, parts.path or "/"


def _scopes(values: list[str] | None) -> tuple[str, ...]:
    try:
        return scope_names(",".join(values or []), "scope")
    except ValidationError as exc:
        raise CLIError(f"--scope: {exc.message}", EXIT_USAGE) from None


def run_login_v2(ctx: Context) -> int:
    """Run ``flattr login --api v2``."""
    args, settings, err = ctx.args, ctx.settings, ctx.err
    scopes = _scopes(args.scope)
    client_id, secret = settings.client()
    base_url = settings.base_url()
    auth_url = settings.auth_url(base_url)
    redirect_uri = None if args.oob else (args.redirect_uri or settings.redirect_uri)
    if not args.oob and redirect_uri is None:
        raise CLIError(
            "API v2 sends the browser back to the application's registered redirect URI only: "
            "register http://127.0.0.1:PORT/callback for it and pass --redirect-uri (or set "
            "FLATTR_REDIRECT_URI, or redirect_uri in config.toml), or use --oob for an "
            "application registered without one",
            EXIT_USAGE,
        )
    store = settings.store()
    previous = store.load(settings.profile)  # a damaged record stops us before anything is sent
    connection: dict[str, Any] = {"ca_certs": settings.ca_certs, "timeout": settings.timeout}

    def say(text: str) -> None:
        print(text, file=err, flush=True)

    if redirect_uri is None:
        auth = v2.FlattrAuth(client_id, secret, None, base_url=auth_url, **connection)
        url = auth.authorize_url(scopes)
        say("Open this page in a browser, choose Allow and type the code it shows:")
        say(f"\n    {url}\n")
        code = read_code(ctx.stdin, err, "flattr login --api v2 --oob")
    else:
        port, path = loopback_redirect(redirect_uri)
        try:
            server = CallbackServer(port, path)
        except OSError as exc:
            raise CLIError(
                f"cannot listen on 127.0.0.1:{port} for the redirect URI "
                f"({exc.strerror or exc}); stop what uses that port, or register another"
            ) from None
        with server:
            auth = v2.FlattrAuth(client_id, secret, redirect_uri, base_url=auth_url, **connection)
            state = secrets.token_urlsafe(16)
            server.expect_with(lambda target: auth.parse_callback(target, state=state))
            url = auth.authorize_url(scopes, state=state)
            if not args.no_browser and open_browser(url):
                say("Your browser shows Flattr's consent page now. If it does not, open:")
            else:
                say("Open this page in a browser on this machine and choose Allow:")
            say(f"\n    {url}\n")
            say(f"Waiting for the browser to come back (up to {args.wait:g} s; Ctrl-C stops)...")
            code = server.wait(args.wait)
    token = auth.fetch_token(code, scopes=scopes)
    del code
    auth.close()
    username: str | None = None
    with v2.FlattrClient(token, base_url=base_url, **connection) as client:
        try:
            username = client.me().username
        except FlattrError as exc:
            log.debug("GET /user after login failed: %s", exc)
    record = StoredToken(
        token=token,
        consumer_key=client_id,
        base_url=base_url,
        scopes=token.scopes,
        username=username,
        api=API_V2,
    )
    return save_login(
        ctx,
        record,
        previous=previous,
        facts={"api": API_V2, "auth_url": auth_url},
        where_to=" to API v2",
    )
