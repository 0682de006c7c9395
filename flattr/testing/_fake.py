""":class:`FakeFlattr`: the public face of the fake server."""

from __future__ import annotations

import http.client
import os
import shutil
import ssl
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from types import TracebackType
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

from flattr._catalog import REST_PREFIX

from ._authorize import Authorizer
from ._faults import DEFAULT_OVERSIZE, DEFAULT_STATUS, Fault
from ._oauth import Provider
from ._rest import Rest
from ._server import HTTPEngine, RecordedRequest
from ._store import Consumer, Credentials, FakeThing, FakeUser, Store, normalize_scopes
from ._wire import Incoming, Outgoing
from ._xmlout import error_document

_OAUTH_LEGS = ("/oauth/request_token", "/oauth/access_token")
_CONSENT_PATHS = ("/oauth/authenticate", "/oauth/connect")


@dataclass(frozen=True, slots=True)
class ConsentResult:
    """What the browser ended up with after the consent page.

    :param redirect_url: where Flattr redirected (``None`` for ``oob``).
    :param verifier: the ``oauth_verifier`` (``None`` when denied).
    :param denied: whether the user pressed Deny.
    """

    redirect_url: str | None = field(repr=False)
    verifier: str | None = field(repr=False)
    denied: bool


class ConsentError(RuntimeError):
    """:meth:`FakeFlattr.consent` met something a browser would show as an error."""


class _FormReader(HTMLParser):
    """Collects the consent form's action, hidden fields and the verifier text."""

    def __init__(self) -> None:
        super().__init__()
        self.action: str | None = None
        self.fields: dict[str, str] = {}
        self.buttons: dict[str, tuple[str, str]] = {}
        self.verifier: str | None = None
        self._in_verifier = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.action = a.get("action", "")
        elif tag == "input" and a.get("type") == "hidden":
            self.fields[a.get("name", "")] = a.get("value", "")
        elif tag == "button" and "id" in a:
            self.buttons[a["id"]] = (a.get("name", ""), a.get("value", ""))
        if a.get("id") == "verifier":
            self._in_verifier = True

    def handle_endtag(self, tag: str) -> None:
        self._in_verifier = False

    def handle_data(self, data: str) -> None:
        if self._in_verifier:
            self.verifier = (self.verifier or "") + data.strip()


class FakeFlattr:
    """A faithful fake of Flattr's OAuth 1.0a REST API 0.0.1, over real HTTP.

    It verifies real HMAC-SHA1 signatures, runs the three-legged flow with
    a consent page, serves every 0.0.1 resource in the 2010 XML shape, and
    can misbehave on request (:meth:`inject_fault`).

    >>> with FakeFlattr() as fake:
    ...     fake.base_url.startswith("http://127.0.0.1:")
    True

    :param host: address to bind.
    :param port: port to bind (0: a free one).
    :param tls: serve HTTPS with a throw-away CA made by ``trustme``
        (see :attr:`ca_bundle`).
    :param latency: seconds added before every answer.
    :param clock: the server's idea of the current Unix time.
    :param timestamp_tolerance: seconds ``oauth_timestamp`` may differ from ``clock()``.
    :param rate_limit: REST calls per hour per token before answering 403.
    :param state: an SQLite file that keeps consumers, users, things, clicks
        and tokens, so that a later FakeFlattr on the same file carries on
        where this one stopped (created when missing; closed by :meth:`stop`).
        ``None``, the default, keeps everything in memory.
    :raises StateError: the state file is in use by another FakeFlattr, is
        damaged or not a state file, or comes from a newer flattr; it is left
        as it was.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        tls: bool = False,
        latency: float = 0.0,
        clock: Callable[[], float] = time.time,
        timestamp_tolerance: float = 600,
        rate_limit: int | None = None,
        state: str | os.PathLike[str] | None = None,
    ) -> None:
        self._store = Store(clock, state)
        self._provider = Provider(self._store, timestamp_tolerance)
        self._rest = Rest(self._store, self._provider, rate_limit)
        self._session_user: FakeUser | None = None
        self._authorizer = Authorizer(self._store, lambda: self.session_user)
        self._tmpdir: Path | None = None
        self.ca_bundle: str | None = None
        """With ``tls=True``, the path of the test CA's PEM file; ``None`` otherwise."""
        # A restored state file already has the start-up consumer and user: the first ones.
        first_consumer = next(iter(self._store.consumers.values()), None)
        first_user = next(iter(self._store.users.values()), None)
        try:
            context = self._make_tls(host) if tls else None
            self._engine = HTTPEngine(
                self._respond, host=host, port=port, ssl_context=context, latency=latency
            )
            self._consumer = first_consumer or self._store.add_consumer(None, None, "Example app")
            first_user = first_user or self.add_user(
                "alice",
                firstname="Alice",
                lastname="Example",
                city="Lund",
                country="Sweden",
                email="alice@example.org",
                description="Writes about birds.",
            )
        except BaseException:
            # Let go of the state file now, not whenever the object is collected.
            self._store.close()
            self._remove_tls_files()
            raise
        self.user: FakeUser = first_user
        """The default user, the one "logged in" on the consent page."""

    def _make_tls(self, host: str) -> ssl.SSLContext:
        try:
            import trustme
        except ImportError:  # pragma: no cover - depends on the environment
            raise RuntimeError("tls=True needs the trustme package (pip install trustme)") from None
        ca = trustme.CA()
        names = dict.fromkeys([host, "127.0.0.1", "localhost"])
        cert = ca.issue_cert(*names)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        cert.configure_cert(context)
        self._tmpdir = Path(tempfile.mkdtemp(prefix="fakeflattr-"))
        bundle = self._tmpdir / "ca.pem"
        ca.cert_pem.write_to_path(str(bundle))
        self.ca_bundle = str(bundle)
        return context

    # -- lifecycle --------------------------------------------------------

    def start(self) -> FakeFlattr:
        """Start serving on a daemon thread.

        :returns: ``self``.
        :raises RuntimeError: it was stopped with a state file, which is now closed.
        """
        if self._store.closed:
            raise RuntimeError("this FakeFlattr's state file was closed by stop(): make a new one")
        self._engine.start()
        return self

    def stop(self) -> None:
        """Stop serving, close all connections, the state file and delete the TLS files."""
        self._engine.stop()
        self._store.close()
        self._remove_tls_files()

    def _remove_tls_files(self) -> None:
        if self._tmpdir is not None:
            shutil.rmtree(self._tmpdir, ignore_errors=True)
            self._tmpdir = None

    def __enter__(self) -> FakeFlattr:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        try:
            where = self.base_url
        except RuntimeError:
            where = "not started"
        return f"<FakeFlattr {where}>"

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>`` (``https://`` with ``tls=True``), no trailing slash."""
        return self._engine.base_url

    @property
    def port(self) -> int:
        """The port the server listens on."""
        return self._engine.port

    # -- routing ----------------------------------------------------------

    def _respond(self, req: Incoming) -> Outgoing:
        if req.path in _OAUTH_LEGS:
            if req.method not in ("GET", "POST"):
                return Outgoing(
                    405, "text/plain; charset=utf-8", b"use GET or POST", [("Allow", "GET, POST")]
                )
            if req.path == _OAUTH_LEGS[0]:
                return self._provider.request_token(req)
            return self._provider.access_token(req)
        if req.path in _CONSENT_PATHS:
            return self._authorizer.handle(req)
        if req.path.startswith(REST_PREFIX):
            return self._rest.handle(req)
        return Outgoing(404, "text/xml; charset=utf-8", error_document(404, "no such resource"))

    # -- users, things, consumers -----------------------------------------

    @property
    def consumer(self) -> Credentials:
        """The consumer (application) registered at start-up."""
        return Credentials(self._consumer.key, self._consumer.secret)

    @property
    def restored(self) -> bool:
        """Whether ``state=`` named a file that already held a fake's state."""
        return self._store.restored

    @property
    def consumers(self) -> tuple[Consumer, ...]:
        """Every registered application (key, secret and name), oldest first."""
        with self._store.lock:
            return tuple(self._store.consumers.values())

    @property
    def session_user(self) -> FakeUser:
        """The user "logged in" on the consent page: :attr:`user` unless :meth:`log_in` said."""
        return self._session_user or self.user

    def log_in(self, user: FakeUser) -> None:
        """Make ``user`` the one who sees (and answers) the consent page."""
        self._session_user = user

    def add_user(
        self,
        username: str,
        *,
        firstname: str = "",
        lastname: str = "",
        city: str = "",
        country: str = "",
        email: str = "",
        description: str = "",
        language: str = "en_GB",
        active: bool = True,
    ) -> FakeUser:
        """Create a user.

        :param username: letters, digits, ``_``, ``.`` or ``-``; unique.
        :param email: defaults to ``<username>@example.org``.
        :param language: a language id from :data:`flattr._catalog.LANGUAGES`.
        :param active: inactive users can neither give nor receive flattrs.
        :returns: the new user, with a numeric ``id``.
        :raises ValueError: a bad or taken name, unknown language, or text XML cannot carry.
        """
        return self._store.add_user(
            username,
            firstname=firstname,
            lastname=lastname,
            city=city,
            country=country,
            email=email or f"{username}@example.org",
            description=description,
            language=language,
            active=active,
        )

    def add_thing(
        self,
        owner: FakeUser,
        *,
        url: str,
        title: str,
        description: str = "",
        category: str = "text",
        language: str = "en_GB",
        tags: Iterable[str] = (),
        hidden: bool = False,
        clicks: int = 0,
        created: int | None = None,
    ) -> FakeThing:
        """Register a thing directly (no REST validation beyond what the XML needs).

        :param owner: a user of this fake.
        :param description: the text the XML calls ``story``.
        :param created: Unix seconds; ``clock()`` when ``None``.
        :returns: the new thing (``id`` is 32 hex characters, ``int_id`` a number).
        :raises ValueError: unknown category or language, a URL already
            registered, or text XML cannot carry.
        """
        return self._store.add_thing(
            owner,
            url=url,
            title=title,
            description=description,
            category=category,
            language=language,
            tags=tags,
            hidden=hidden,
            clicks=clicks,
            created=created,
        )

    def add_consumer(
        self, key: str | None = None, secret: str | None = None, *, name: str = "Example app"
    ) -> Credentials:
        """Register another application.

        :param key: the consumer key (random when ``None``).
        :param secret: the consumer secret (random when ``None``).
        :param name: shown on the consent page.
        :returns: its key and secret.
        """
        consumer = self._store.add_consumer(key, secret, name)
        return Credentials(consumer.key, consumer.secret)

    @property
    def users(self) -> tuple[FakeUser, ...]:
        """Every user, in creation order."""
        with self._store.lock:
            return tuple(self._store.users.values())

    @property
    def things(self) -> tuple[FakeThing, ...]:
        """Every thing, hidden ones included, in creation order."""
        with self._store.lock:
            return tuple(self._store.things.values())

    def thing_by_url(self, url: str) -> FakeThing | None:
        """The thing registered for exactly ``url``, or ``None``."""
        return self._store.thing_by_url(url)

    def seed_demo(self) -> None:
        """Add a few users and things, so a demo has something to show."""
        bob = self.add_user(
            "bob",
            firstname="Bob",
            lastname="Builder",
            city="Malmö",
            country="Sweden",
            description="Builds & breaks <things>.",
        )
        carol = self.add_user(
            "carol",
            firstname="Carol",
            lastname="Jones",
            city="Cork",
            country="Ireland",
            language="ga_IE",
        )
        self.add_thing(
            self.user,
            url="https://alice.example.org/birds/robin",
            title="The robin in spring",
            description="Notes on robins nesting in the garden.",
            tags=("birds", "spring"),
        )
        self.add_thing(
            self.user,
            url="https://alice.example.org/drafts/owls",
            title="Owls (draft)",
            description="Not ready yet.",
            hidden=True,
        )
        self.add_thing(
            bob,
            url="https://bob.example.org/tools",
            title="Tools I love",
            description="Hammers, saws & a 3D printer ~ with photos.",
            category="images",
            tags=("tools", "diy"),
            clicks=3,
        )
        self.add_thing(
            carol,
            url="https://carol.example.org/podcast/1",
            title="Podcast episode 1",
            description="An hour of talk about music from Cork.",
            category="audio",
            language="ga_IE",
            tags=("music", "podcast"),
            clicks=12,
        )
        self.add_thing(
            carol,
            url="https://carol.example.org/app",
            title="Tiny note app",
            description="A small free note-taking app.",
            category="software",
            tags=("app",),
        )

    # -- OAuth shortcuts --------------------------------------------------

    def issue_access_token(
        self,
        user: FakeUser | None = None,
        *,
        consumer: Credentials | None = None,
        scopes: Iterable[str] = ("read",),
    ) -> Credentials:
        """Skip the flow: grant ``user`` an access token for ``consumer``.

        :param user: defaults to :attr:`user`.
        :param consumer: defaults to :attr:`consumer`.
        :param scopes: scope names (``readextended`` is accepted).
        :returns: the token's key and secret.
        """
        token = self._store.new_access_token(
            (consumer or self.consumer).key, (user or self.user).id, normalize_scopes(scopes)
        )
        return Credentials(token.key, token.secret)

    def revoke(self, access_token_key: str) -> None:
        """Revoke an access token, as a user would on flattr.com.

        :raises KeyError: no such access token.
        """
        self._store.revoke_access_token(access_token_key)

    def approve(
        self,
        request_token_key: str,
        *,
        user: FakeUser | None = None,
        scopes: Iterable[str] = ("read",),
    ) -> str:
        """Consent without a browser.

        :param request_token_key: a pending request token.
        :param user: who consents (defaults to :attr:`session_user`).
        :param scopes: what is granted.
        :returns: the verifier to trade at ``/oauth/access_token``.
        :raises KeyError: the token is unknown or not pending.
        """
        return self._authorizer.approve(request_token_key, user or self.session_user, scopes)

    def deny(self, request_token_key: str) -> None:
        """Refuse a pending request token without a browser.

        :raises KeyError: the token is unknown or not pending.
        """
        self._authorizer.deny(request_token_key)

    def consent(self, authorize_url: str, *, allow: bool = True) -> ConsentResult:
        """Do what a browser does with an authorize URL, over real HTTP.

        GETs the consent page, submits its form with Allow (or Deny) and
        reads the redirect's ``Location`` or, for ``oob``, the PIN page.

        :param authorize_url: ``<base>/oauth/authenticate?oauth_token=...&access_scope=...``.
        :param allow: press Allow (``True``) or Deny.
        :returns: the redirect URL, the verifier and whether it was denied.
        :raises ConsentError: the page was not a consent page (unknown or used token, ...).
        """
        status, _, page = self._browser("GET", authorize_url)
        if status != 200:
            raise ConsentError(f"the consent page answered {status}")
        form = _FormReader()
        form.feed(page.decode("utf-8"))
        button = form.buttons.get("allow" if allow else "deny")
        if form.action is None or button is None:
            raise ConsentError("no consent form on the page")
        fields = {**form.fields, button[0]: button[1]}
        status, location, page = self._browser(
            "POST", urljoin(authorize_url, form.action), urlencode(fields).encode()
        )
        if status in (301, 302, 303, 307) and location:
            query = parse_qs(urlsplit(location).query)
            verifier = query.get("oauth_verifier", [None])[-1]
            return ConsentResult(location, verifier, "denied" in query)
        if status != 200:
            raise ConsentError(f"submitting the consent form answered {status}")
        reader = _FormReader()
        reader.feed(page.decode("utf-8"))
        return ConsentResult(None, reader.verifier, reader.verifier is None)

    def _browser(
        self, method: str, url: str, body: bytes | None = None
    ) -> tuple[int, str | None, bytes]:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
        conn: http.client.HTTPConnection
        if parts.scheme == "https":
            context = ssl.create_default_context(cafile=self.ca_bundle)
            conn = http.client.HTTPSConnection(
                parts.hostname or "", port, timeout=10, context=context
            )
        else:
            conn = http.client.HTTPConnection(parts.hostname or "", port, timeout=10)
        headers = {"Content-Type": "application/x-www-form-urlencoded"} if body is not None else {}
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        try:
            conn.request(method, target, body=body, headers=headers)
            response = conn.getresponse()
            return response.status, response.getheader("Location"), response.read()
        finally:
            conn.close()

    # -- recording, connections, faults -----------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request received so far (a copy), oldest first."""
        return self._engine.requests

    def requests_to(self, path_prefix: str, method: str | None = None) -> list[RecordedRequest]:
        """The recorded requests whose path starts with ``path_prefix``.

        :param method: keep only this HTTP method (e.g. ``"POST"``).
        """
        return [
            r
            for r in self._engine.requests
            if r.path.startswith(path_prefix) and (method is None or r.method == method.upper())
        ]

    def clear_requests(self) -> None:
        """Forget the recorded requests."""
        self._engine.clear_requests()

    @property
    def connections_opened(self) -> int:
        """TCP connections accepted so far (keep-alive reuses one)."""
        return self._engine.connections_opened

    def close_idle_connections(self) -> int:
        """Close every kept-alive connection waiting for its next request.

        Lets a test reproduce "the server closed an idle socket" (T9).

        :returns: how many connections were closed.
        """
        return self._engine.close_connections(idle_only=True)

    def inject_fault(
        self,
        path_prefix: str,
        kind: str,
        *,
        times: int = 1,
        every: int | None = None,
        status: int | None = None,
        retry_after: int | str | None = None,
        seconds: float = 0.0,
        size: int = DEFAULT_OVERSIZE,
    ) -> None:
        """Make requests whose path starts with ``path_prefix`` misbehave.

        The fault fires for the next ``times`` matching requests, or, with
        ``every=N``, for every N-th matching request forever. Faulted
        requests are still recorded (``status`` ``None`` when dropped).

        Kinds: ``status`` (answer ``status``, default 503, with an XML error
        body and ``Retry-After`` when given); ``stall`` (wait ``seconds``,
        then answer normally); ``drop_before_read`` (close once the request
        line and headers are read, before the body, without answering);
        ``drop_after_read`` (read it all, do not process, close);
        ``drop_after_processing`` (process it, e.g. register the thing, then
        close without answering); ``truncate`` (process, then send half the
        body under the full ``Content-Length`` and close); ``oversize`` (a
        well-formed XML answer of ``size`` bytes); ``html`` (a "502 Bad
        Gateway" HTML page, status ``status``, default 200);
        ``malformed_xml``; ``xml_bomb`` (billion laughs); ``external_entity``;
        ``invalid_utf8``; ``wrong_content_type`` (process, answer as
        ``text/plain``); ``redirect`` (``status``, default 302, to
        ``/redirected<path>`` on this server).

        :raises ValueError: an unknown kind or a bad count.
        """
        if kind == "oversize" and size < 128:
            raise ValueError("size must be at least 128 bytes")
        self._engine.faults.arm(
            Fault(
                path_prefix=path_prefix,
                kind=kind,
                times=times,
                every=every,
                status=status if status is not None else DEFAULT_STATUS.get(kind, 503),
                retry_after=None if retry_after is None else str(retry_after),
                seconds=seconds,
                size=size,
            )
        )

    def clear_faults(self) -> None:
        """Disarm every injected fault."""
        self._engine.faults.clear()
