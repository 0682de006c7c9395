""":class:`FakeFlattr`: the public face of the fake server."""

from __future__ import annotations

import os
import shutil
import ssl
import tempfile
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from types import TracebackType

from flattr._catalog import REST_PREFIX

from ._authorize import Authorizer
from ._browser import ConsentResult, OAuth2Consent, plain_browser, walk_v1, walk_v2
from ._faults import DEFAULT_OVERSIZE, DEFAULT_STATUS, Fault
from ._oauth import Provider
from ._oauth2 import AUTHORIZE_PATH, TOKEN_PATH, OAuth2Provider
from ._rest import Rest
from ._seed import seed_demo
from ._server import HTTPEngine, RecordedRequest
from ._store import Consumer, Credentials, FakeThing, FakeUser, Store, normalize_scopes
from ._v2json import MODES
from ._v2rest import V2_PREFIX, V2Rest
from ._v2store import SCOPES_V2, BearerToken, FlattrRecord, OAuth2Client, V2Store
from ._wire import Incoming, Outgoing
from ._xmlout import error_document

_OAUTH_LEGS = ("/oauth/request_token", "/oauth/access_token")
_CONSENT_PATHS = ("/oauth/authenticate", "/oauth/connect")


class FakeFlattr:
    """A faithful fake of Flattr's OAuth 1.0a REST API 0.0.1, over real HTTP.

    It verifies real HMAC-SHA1 signatures, runs the three-legged flow with
    a consent page, serves every 0.0.1 resource in the 2010 XML shape, and
    can misbehave on request (:meth:`inject_fault`). It speaks API v2 too
    (OAuth 2 and JSON, see :meth:`consent_v2` and :meth:`issue_v2_token`),
    from the same users and things.

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
    :param v2_rate_limit: API v2 calls per hour per bearer token (anonymous
        calls share one budget) before ``403 rate_limit_exceeded``; ``None``:
        the documented 1000 (5000 in ``early-2012`` mode).
    :param v2_mode: which API v2 to be: ``late-2012`` (the docs' last state),
        ``early-2012`` (5000/h, two rate headers, no ``full``, no
        subscriptions) or ``2014`` (``no_money``, ``hidden`` as 0/1,
        ``flattrs_user_count`` as a string, user ``id`` and ``active_supporter``).
    :param max_recorded: requests :attr:`requests` keeps, the oldest dropped
        first (counted in :attr:`requests_dropped`); ``None`` keeps all.
    :param max_recorded_body: bytes of each request body the log keeps;
        longer bodies are kept cut (:attr:`~flattr.testing.RecordedRequest.truncated`).
    :param record_requests: record requests at all (see :attr:`recording`).
    :param idle_timeout: seconds a connection may stay silent (or take to
        send one request) before the server closes it.
    :param max_workers: requests answered at once; more wait their turn.
    :param max_nonces: nonces remembered at once; past that, the oldest
        timestamps are refused so that no request can be replayed.
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
        v2_rate_limit: int | None = None,
        v2_mode: str = "late-2012",
        state: str | os.PathLike[str] | None = None,
        max_recorded: int | None = 5000,
        max_recorded_body: int = 4096,
        record_requests: bool = True,
        idle_timeout: float = 60.0,
        max_workers: int = 32,
        max_nonces: int = 10_000,
    ) -> None:
        if v2_mode not in MODES:
            raise ValueError(f"v2_mode must be one of {MODES}, not {v2_mode!r}")
        self._clock = clock
        self._tolerance = timestamp_tolerance
        self._rate_limit = rate_limit
        self._v2_rate_limit = v2_rate_limit
        self._v2_mode = v2_mode
        self._max_nonces = max_nonces
        self._state = state
        self._store = Store(clock, state)
        self._v2 = V2Store(self._store)
        self._oauth2 = OAuth2Provider(self._v2, lambda: self.session_user)
        self._v2rest = V2Rest(self._store, self._v2, v2_rate_limit, v2_mode)
        self._provider = Provider(self._store, timestamp_tolerance, max_nonces)
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
                self._respond,
                host=host,
                port=port,
                ssl_context=context,
                latency=latency,
                max_recorded=max_recorded,
                max_recorded_body=max_recorded_body,
                record=record_requests,
                max_workers=max_workers,
                idle_timeout=idle_timeout,
            )
            self._consumer = first_consumer or self._store.add_consumer(None, None, "Example app")
            self._oauth2_client = self._v2.add_client(
                None, None, "https://127.0.0.1/flattr/callback", "Example app"
            )
            first_user = first_user or self._add_default_user()
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
            raise RuntimeError(
                "tls=True needs the trustme package: pip install 'flattr[testing]'"
            ) from None
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

    def _add_default_user(self) -> FakeUser:
        return self.add_user(
            "alice",
            firstname="Alice",
            lastname="Example",
            city="Lund",
            country="Sweden",
            email="alice@example.org",
            description="Writes about birds.",
        )

    def reset(self) -> None:
        """Go back to the state right after construction, without restarting.

        The consumer and the OAuth 2 client keep their keys and secrets and the
        default user comes back as :attr:`user` (same name and id, a new
        record); every other user, thing, token and API v2 record is gone.
        The request log and its counts, the connection count, faults, nonces
        and the consent-page session (:meth:`log_in`) are cleared, and idle
        keep-alive connections are closed. Settings given to the constructor
        stay. Meant for one server shared by many tests, reset before each
        (the ``fake_flattr_shared`` fixture).

        :raises RuntimeError: with ``state=``: a state file is kept, never wiped.
        """
        if self._state is not None:
            raise RuntimeError("reset() would wipe the state file; use a FakeFlattr without state=")
        consumer, app = self._consumer, self._oauth2_client
        store = Store(self._clock)
        store.add_consumer(consumer.key, consumer.secret, consumer.name)
        v2 = V2Store(store)
        provider = Provider(store, self._tolerance, self._max_nonces)
        self._store, self._v2, self._provider = store, v2, provider
        self._oauth2 = OAuth2Provider(v2, lambda: self.session_user)
        self._v2rest = V2Rest(store, v2, self._v2_rate_limit, self._v2_mode)
        self._rest = Rest(store, provider, self._rate_limit)
        self._authorizer = Authorizer(store, lambda: self.session_user)
        self._consumer = store.consumers[consumer.key]
        self._oauth2_client = v2.add_client(
            app.client_id, app.client_secret, app.redirect_uri, app.name
        )
        self._session_user = None
        self.user = self._add_default_user()
        self._engine.reset()

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
        if req.path in (AUTHORIZE_PATH, TOKEN_PATH):
            return self._oauth2.handle(req)
        if req.path == V2_PREFIX or req.path.startswith(V2_PREFIX + "/"):
            return self._v2rest.handle(req)
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
        user = self._store.add_user(
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
        self._v2.extras_for(user)  # API v2's registered_at: now
        return user

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
        image: str = "",
    ) -> FakeThing:
        """Register a thing directly (no REST validation beyond what the XML needs).

        :param owner: a user of this fake.
        :param description: the text the XML calls ``story``.
        :param created: Unix seconds; ``clock()`` when ``None``.
        :param image: the image URL API v2 shows (``""``: none).
        :returns: the new thing (``id`` is 32 hex characters, ``int_id`` a number).
        :raises ValueError: unknown category or language, a URL already
            registered, or text XML cannot carry.
        """
        thing = self._store.add_thing(
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
        if image:
            self._store.update_thing(thing, image=image)
        return thing

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
        seed_demo(self)

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
        return walk_v1(plain_browser(self.ca_bundle), authorize_url, allow=allow)

    # -- API v2 (OAuth 2) -------------------------------------------------

    @property
    def oauth2_client(self) -> OAuth2Client:
        """The OAuth 2 application registered at start-up (API v2's :attr:`consumer`).

        Its ``redirect_uri`` is ``https://127.0.0.1/flattr/callback``; nothing
        listens there, the redirect only carries the code back.
        """
        return self._oauth2_client

    def add_oauth2_client(
        self,
        client_id: str | None = None,
        client_secret: str | None = None,
        *,
        redirect_uri: str | None = "https://127.0.0.1/flattr/callback",
        name: str = "Example app",
    ) -> OAuth2Client:
        """Register another API v2 application.

        :param client_id: the client id (64 random letters and digits when ``None``).
        :param client_secret: the secret (random when ``None``).
        :param redirect_uri: the registered callback; ``None`` for a "client"
            type application, whose user copies the code from a page.
        :param name: shown on the consent page.
        :returns: the application.
        :raises ValueError: the client id is taken.
        """
        return self._v2.add_client(client_id, client_secret, redirect_uri, name)

    def issue_v2_token(
        self,
        user: FakeUser | None = None,
        *,
        scopes: Iterable[str] = ("flattr", "thing"),
        client: OAuth2Client | None = None,
    ) -> BearerToken:
        """Skip the OAuth 2 flow: grant ``user`` a bearer token.

        :param user: defaults to :attr:`user`.
        :param scopes: v2 scope names (``flattr``, ``thing``, ``email``, ``extendedread``).
        :param client: defaults to :attr:`oauth2_client`.
        :returns: the token (``.token`` is what goes after ``Bearer``).
        :raises ValueError: a scope that is not a v2 scope (0.0.1 names included).
        """
        wanted = tuple(dict.fromkeys(scopes))
        unknown = [s for s in wanted if s not in SCOPES_V2]
        if unknown:
            raise ValueError(f"{unknown[0]!r} is not an API v2 scope; use {SCOPES_V2}")
        owner = user or self.user
        app = client or self._oauth2_client
        record = self._v2.new_token(app.client_id, owner.id, wanted)
        return BearerToken(record.token, wanted, owner.username, app.client_id)

    def revoke_v2_token(self, token: BearerToken | str) -> None:
        """Revoke a bearer token, as a user would on flattr.com.

        :param token: the token or its ``.token`` text.
        :raises KeyError: no such token.
        """
        text = token.token if isinstance(token, BearerToken) else token
        with self._store.lock:
            self._v2.tokens[text].revoked = True

    def consent_v2(self, authorize_url: str, *, allow: bool = True) -> OAuth2Consent:
        """Do what a browser does with an API v2 authorize URL, over real HTTP.

        GETs ``/oauth/authorize``, submits the consent form with Allow (or
        Deny) and reads the redirect (``code``, ``state``, ``error``; the
        fragment for ``response_type=token``). An authorize request the
        fake refuses by redirect (``invalid_scope`` ...) comes back the same way.

        :param authorize_url: ``<base>/oauth/authorize?response_type=code&client_id=...``.
        :param allow: press Allow (``True``) or Deny.
        :returns: the redirect URL, the code, the state and the error, if any.
        :raises ConsentError: no consent page (unknown client, redirect mismatch ...).
        """
        return walk_v2(plain_browser(self.ca_bundle), authorize_url, allow=allow)

    def set_means(self, user: FakeUser, flattrs: int | None) -> None:
        """Give ``user`` money for ``flattrs`` more v2 flattrs (``None``: unlimited).

        At 0, flattring answers ``401 no_means`` (``no_money`` in ``2014`` mode).
        """
        with self._store.lock:
            self._v2.extras_for(user).means = flattrs

    def set_v2_profile(
        self, user: FakeUser, *, url: str | None = None, hide_flattrs: bool | None = None
    ) -> None:
        """Set the v2-only profile fields of ``user``.

        :param url: the user's web site (the user object's ``url``).
        :param hide_flattrs: hide what ``user`` flattrs from everybody else.
        """
        with self._store.lock:
            extras = self._v2.extras_for(user)
            if url is not None:
                extras.url = url
            if hide_flattrs is not None:
                extras.hide_flattrs = hide_flattrs

    def add_flattr(self, user: FakeUser, thing: FakeThing, *, created: int | None = None) -> None:
        """Record that ``user`` flattred ``thing`` (no rules checked), for seeding.

        :param created: Unix seconds; ``clock()`` when ``None`` (the
            ``flattr_once`` rule looks at the calendar month).
        """
        with self._store.lock:
            when = int(self._store.clock()) if created is None else created
            self._store.click(thing, user)
            self._v2.flattrs.append(FlattrRecord(user, thing, when))
            self._v2.flattrs.sort(key=lambda f: f.created)

    # -- recording, connections, faults -----------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        """The recorded requests (a copy), oldest first.

        The last ``max_recorded`` requests (5,000 unless the constructor
        said otherwise); older ones are dropped and counted in
        :attr:`requests_dropped`.
        """
        return self._engine.requests

    @property
    def requests_dropped(self) -> int:
        """Requests received but not in :attr:`requests`.

        Pushed out by ``max_recorded``, or not recorded while
        :attr:`recording` was off. :meth:`clear_requests` does not count.
        """
        return self._engine.log.dropped

    @property
    def recording(self) -> bool:
        """Whether requests are recorded; set it to ``False`` to stop (and back to resume)."""
        return self._engine.log.enabled

    @recording.setter
    def recording(self, on: bool) -> None:
        self._engine.log.enabled = on

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
