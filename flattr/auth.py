"""The three-legged OAuth 1.0a flow: request token, user approval, access token.

>>> from flattr import FlattrAuth
>>> auth = FlattrAuth("my-consumer-key", "my-consumer-secret", "oob",
...                   base_url="https://api.flattr.com")
>>> auth
FlattrAuth(base_url='https://api.flattr.com', consumer_key='my-c…', callback_url='oob')

A web application uses it in two requests::

    # 1. the user clicks "connect to Flattr"
    request_token = auth.fetch_request_token()
    session["flattr_rt"] = request_token.to_dict()     # keep it until the callback
    return redirect(auth.authorize_url(request_token, scopes=("read", "publish")))

    # 2. Flattr redirects the user back to callback_url
    request_token = flattr.RequestToken.from_dict(session.pop("flattr_rt"))
    verifier = auth.parse_callback(request.url, request_token)
    access_token = auth.fetch_access_token(request_token, verifier)
    save_for_user(access_token.to_dict())              # valid until the user revokes it
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable
from urllib.parse import parse_qs, quote, urlsplit

from flattr import _catalog, _responses, _validate
from flattr._http import (
    DEFAULT_MAX_RESPONSE_BYTES,
    DEFAULT_TIMEOUT,
    Credentials,
    Request,
    Transport,
)
from flattr._redact import Secret, mask
from flattr.errors import OAuthError
from flattr.models import AccessToken, RequestToken

__all__ = ["FlattrAuth"]


def _token_key(token: object, field: str) -> str:
    key = token if isinstance(token, str) else getattr(token, "key", None)
    return _validate.credential(f"{field}.key", key)


def _read_callback(redirect_url: object) -> tuple[bool, str, Secret]:
    """Whether the user denied, the callback's ``oauth_token`` and its verifier (masked).

    The URL is read in this frame, which returns; the caller, which may raise,
    holds only the masked verifier.
    """
    url = _validate.redirect_url(
        redirect_url.reveal() if isinstance(redirect_url, Secret) else redirect_url
    )
    query = urlsplit(url).query if "?" in url else url
    params = {name: values[0] for name, values in parse_qs(query).items()}
    return (
        "denied" in params,
        params.get("oauth_token", ""),
        Secret(params.get("oauth_verifier", "")),
    )


class FlattrAuth:
    """Runs the OAuth 1.0a flow for one application (consumer).

    :param consumer_key: the application's key from Flattr's app registration.
    :param consumer_secret: the application's secret.
    :param callback_url: where Flattr sends the user after approval: an
        absolute http(s) URL inside the registered callback domain, or
        ``"oob"`` for applications that show the user a PIN to type in.
    :param base_url: the server root (``https://api.flattr.com``, or a
        :class:`flattr.testing.FakeFlattr`'s ``base_url``).
    :param timeout: seconds allowed for connecting and for each read.
    :param connect_timeout: seconds allowed for connecting, when that should
        differ from ``timeout``.
    :param deadline: seconds allowed for a whole call, retries included
        (default: four times ``timeout``).
    :param ca_certs: a PEM bundle of CAs to trust for this server.
    :param retries: how often the request-token call is retried after a
        connection failure or a 502/503/504 answer. The access-token call
        (which uses up the verifier) is re-sent only after a refused
        connection, when nothing reached the server.
    :param max_response_bytes: the largest response body accepted.
    :param proxy: a proxy for every request (``http://host:port``,
        ``socks5://host:port``); without it ``HTTPS_PROXY``, ``HTTP_PROXY``
        and ``NO_PROXY`` decide, as in requests (see :doc:`/transport`).
    :param transport: a :class:`~flattr.Transport` to use (and share with a
        :class:`~flattr.FlattrClient`) instead of building one from the
        options above.
    :param allow_cleartext_http: allow a plain ``http://`` ``base_url`` to a
        host that is not loopback. The flow's secrets then travel in clear
        text; without it such a URL is refused.
    :raises ValidationError: for an empty key or secret, a callback that is
        neither an absolute URL nor ``"oob"``, or a ``base_url`` that is
        malformed or insecure.
    """

    def __init__(
        self,
        consumer_key: str,
        consumer_secret: str,
        callback_url: str,
        *,
        base_url: str = _catalog.DEFAULT_BASE_URL,
        timeout: float = DEFAULT_TIMEOUT,
        connect_timeout: float | None = None,
        deadline: float | None = None,
        ca_certs: str | None = None,
        retries: int = 2,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
        proxy: str | None = None,
        transport: Transport | None = None,
        allow_cleartext_http: bool = False,
    ) -> None:
        # Kept in Credentials, whose repr leaves the secret out (vars(auth) too),
        # and masked before anything can fail: a traceback shows this frame's locals.
        masked = Secret(consumer_secret) if isinstance(consumer_secret, str) else consumer_secret
        del consumer_secret
        self._consumer = Credentials(
            _validate.credential("consumer_key", consumer_key),
            _validate.secret("consumer_secret", masked),
        )
        self.callback_url = _validate.callback(callback_url)
        self.base_url = _validate.base_url(base_url, allow_cleartext_http=allow_cleartext_http)
        self._transport = transport or Transport(
            timeout=timeout,
            connect_timeout=connect_timeout,
            deadline=deadline,
            ca_certs=ca_certs,
            retries=retries,
            max_response_bytes=max_response_bytes,
            proxy=proxy,
        )

    def __repr__(self) -> str:
        # Also called on a half-built object, when a traceback shows __init__'s locals.
        consumer = getattr(self, "_consumer", None)
        key = mask(consumer.consumer_key if consumer else "")
        return (
            f"FlattrAuth(base_url={getattr(self, 'base_url', None)!r}, consumer_key={key!r}, "
            f"callback_url={getattr(self, 'callback_url', None)!r})"
        )

    @property
    def consumer_key(self) -> str:
        """The application's consumer key (public)."""
        return self._consumer.consumer_key

    def _call(
        self, path: str, token: object | None, oauth: tuple[tuple[str, str | Secret], ...]
    ) -> dict[str, str]:
        token_key: str | None = None
        token_secret: Secret | None = None
        if token is not None:
            token_key = _token_key(token, "request_token")
            token_secret = _validate.secret("request_token.secret", getattr(token, "secret", None))
        request = Request(
            "POST",
            f"{self.base_url}{path}",
            oauth=oauth,
            # The access-token exchange uses the request token up: never re-send it.
            idempotent=token is None,
        )
        credentials = Credentials(
            self._consumer.consumer_key, self._consumer.consumer_secret, token_key, token_secret
        )
        return _responses.oauth_fields(request, self._transport.send(request, credentials))

    def fetch_request_token(self) -> RequestToken:
        """Step 1: ask for a request token, sending ``oauth_callback``.

        :returns: the token to keep until the callback.
        :raises OAuthError: the server refused (``.problem`` says why), or did
            not confirm the callback (``problem="callback_not_confirmed"``,
            a sign of a pre-1.0a server open to session fixation).
        :raises TransportError: the server could not be reached.
        """
        fields = self._call("/oauth/request_token", None, (("oauth_callback", self.callback_url),))
        if fields.get("oauth_callback_confirmed") != "true":
            raise OAuthError(
                "callback_not_confirmed",
                "the server did not confirm the callback (oauth_callback_confirmed=true is "
                "missing), so it does not speak OAuth 1.0a; refusing to continue",
                status=200,
            )
        return RequestToken(fields["oauth_token"], fields["oauth_token_secret"], True)

    def authorize_url(
        self, request_token: RequestToken | str, scopes: Iterable[str] = ("read",)
    ) -> str:
        """Step 2: the page where the user approves the application.

        :param request_token: the token from :meth:`fetch_request_token` (or its key).
        :param scopes: any of ``read``, ``click``, ``publish``, ``extendedread``
            (``readextended`` is accepted as the same scope).
        :raises ValidationError: for an unknown scope; nothing is sent.

        >>> auth = FlattrAuth("key", "secret", "oob")
        >>> auth.authorize_url("t0ken", scopes=["read", "publish"])
        'https://api.flattr.com/oauth/authenticate?oauth_token=t0ken&access_scope=read,publish'
        """
        key = _token_key(request_token, "request_token")
        scope = ",".join(_validate.scopes(scopes))
        return (
            f"{self.base_url}/oauth/authenticate?oauth_token={quote(key, safe='')}"
            f"&access_scope={scope}"
        )

    def parse_callback(self, redirect_url: str, request_token: RequestToken) -> str:
        """Step 2½: read the verifier from the URL Flattr redirected the user to.

        :param redirect_url: the full callback URL (or just its query string).
        :param request_token: the token this user was sent off with.
        :returns: the ``oauth_verifier``.
        :raises OAuthError: the user denied access (``problem="denied"``), the
            ``oauth_token`` is not the one given (``"token_mismatch"``, which
            may be a forged callback), or the verifier is missing
            (``"parameter_absent"``).
        """
        url = Secret(redirect_url) if isinstance(redirect_url, str) else redirect_url
        del redirect_url
        denied, returned, verifier = _read_callback(url)
        expected = _token_key(request_token, "request_token")
        if denied:
            raise OAuthError("denied", "the user did not allow access to Flattr")
        if not hmac.compare_digest(returned.encode(), expected.encode()):
            raise OAuthError(
                "token_mismatch",
                "the callback's oauth_token is not the request token this user was sent "
                "off with; ignore this callback (it may be forged) and start again",
            )
        if not verifier:
            raise OAuthError("parameter_absent", "the callback carries no oauth_verifier")
        return verifier.reveal()

    def fetch_access_token(self, request_token: RequestToken, verifier: str) -> AccessToken:
        """Step 3: exchange the approved request token for an access token.

        A request token can be exchanged once; the call is never re-sent.

        :param request_token: the token from :meth:`fetch_request_token`.
        :param verifier: from :meth:`parse_callback`, or the PIN the user typed.
        :raises ValidationError: for an empty verifier; nothing is sent.
        :raises OAuthError: the server refused (``.problem`` says why).
        """
        masked = _validate.verifier(verifier)
        del verifier  # from here on, only the masked one
        fields = self._call("/oauth/access_token", request_token, (("oauth_verifier", masked),))
        return AccessToken(fields["oauth_token"], fields["oauth_token_secret"])

    def __enter__(self) -> FlattrAuth:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the connections; the object stays usable."""
        self._transport.close()
