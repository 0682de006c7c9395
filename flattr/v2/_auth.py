"""The OAuth 2 authorization-code flow of API v2: authorize page, callback, token.

>>> from flattr import v2
>>> auth = v2.FlattrAuth("my-client-id", "my-client-secret", "https://example.org/cb")
>>> auth.authorize_url(scopes=("flattr", "thing"), state="s1")
'https://flattr.com/oauth/authorize?response_type=code&client_id=my-client-id&redirect_uri=https%3A%2F%2Fexample.org%2Fcb&scope=flattr+thing&state=s1'

A web application uses it in two requests::

    # 1. the user clicks "connect to Flattr"
    session["flattr_state"] = state = secrets.token_urlsafe(16)
    return redirect(auth.authorize_url(scopes=("flattr",), state=state))

    # 2. Flattr sends the user back to redirect_uri
    code = auth.parse_callback(request.url, state=session.pop("flattr_state"))
    token = auth.fetch_token(code, scopes=("flattr",))
    save_for_user(token.to_dict())          # valid until the user revokes it
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Iterable
from urllib.parse import parse_qsl, urlencode, urlsplit

from flattr import _validate
from flattr._http import (
    DEFAULT_MAX_RESPONSE_BYTES,
    DEFAULT_TIMEOUT,
    FORM_CONTENT_TYPE,
    BasicSigner,
    Request,
    Response,
    Transport,
)
from flattr._redact import mask, scrub, scrubbed
from flattr.errors import Advice, OAuthError, ValidationError
from flattr.v2 import _catalog, _json, _responses
from flattr.v2._models import AccessToken

__all__ = ["FlattrAuth", "scope_names"]

#: What a refused token request means for the caller.
_TOKEN_ADVICE = {
    "invalid_grant": Advice.AUTHORIZE_AGAIN,
    "invalid_client": Advice.CHECK_CONSUMER,
    "unauthorized_client": Advice.CHECK_CONSUMER,
    "invalid_scope": Advice.ADD_SCOPE,
}
_SCOPE_SPLIT = re.compile(r"[\s,+]+")
#: 0.0.1's names, which v2 does not know: named in the error to help migrating.
_OLD_SCOPES = {"read": "", "click": "flattr", "publish": "thing", "readextended": "extendedread"}


def scope_names(value: object, field: str = "scopes") -> tuple[str, ...]:
    """v2 scope names, de-duplicated in order (a string may list several).

    :raises ValidationError: for an unknown or 0.0.1 scope name.
    """
    if isinstance(value, str):
        value = [part for part in _SCOPE_SPLIT.split(value) if part]
    if not isinstance(value, Iterable):
        raise ValidationError(field, "must be a sequence of scope names")
    result: list[str] = []
    for item in value:
        if not isinstance(item, str):
            raise ValidationError(field, f"scope names are strings, not {type(item).__name__}")
        name = item.strip().lower()
        if name not in _catalog.SCOPES:
            allowed = ", ".join(_catalog.SCOPES)
            hint = ""
            if name in _OLD_SCOPES:
                new = _OLD_SCOPES[name]
                hint = f" ({item!r} is an API 0.0.1 scope; " + (
                    f"v2 calls it {new!r})" if new else "v2 needs none for reading)"
                )
            raise ValidationError(field, f"unknown scope {item!r}{hint}; choose from {allowed}")
        if name not in result:
            result.append(name)
    return tuple(result)


def _redirect_uri(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        try:
            parts = urlsplit(value)
        except ValueError:
            parts = None
        if parts and parts.scheme in ("http", "https") and parts.hostname and not parts.fragment:
            return value
    raise ValidationError(
        "redirect_uri", "must be an absolute http(s) URL without #fragment, or None"
    )


def _state(value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value or not value.isprintable():
        raise ValidationError("state", "must be a non-empty printable string, or None")
    return value


class FlattrAuth:
    """Runs the OAuth 2 authorization-code flow for one application.

    :param client_id: the application's client id from ``flattr.com/apps/new``.
    :param client_secret: the application's client secret.
    :param redirect_uri: the registered callback URL, or ``None`` for an
        application without one (the user then copies the code by hand).
    :param base_url: where the OAuth pages live (``https://flattr.com``, or a
        :class:`flattr.testing.FakeFlattr`'s ``base_url``).
    :param timeout: seconds allowed for connecting and for each read.
    :param ca_certs: a PEM bundle of CAs to trust for this server.
    :param max_response_bytes: the largest answer accepted.
    :param allow_cleartext_http: allow a plain ``http://`` base URL to a host that
        is not loopback (every request, and the token, would go in clear text).
    :param transport: a transport to share (its options win over the ones above).
    :raises ValidationError: for an empty id or secret, or a bad redirect URI.
    """

    def __init__(
        self,
        client_id: str,
        client_secret: str,
        redirect_uri: str | None,
        *,
        base_url: str = _catalog.AUTH_BASE_URL,
        timeout: float = DEFAULT_TIMEOUT,
        ca_certs: str | None = None,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
        transport: Transport | None = None,
        allow_cleartext_http: bool = False,
    ) -> None:
        try:
            self.client_id = _validate.credential("client_id", client_id)
            if ":" in self.client_id:
                raise ValidationError(
                    "client_id", "must not contain ':' (HTTP Basic cannot carry it)"
                )
            self._signer = BasicSigner(
                self.client_id, _validate.credential("client_secret", client_secret)
            )
        except ValidationError as exc:
            # the bad value is in this frame and the ones below: out of the traceback
            scrub(exc)
            del client_secret
            raise
        del client_secret  # nothing below may show it if it raises
        self.redirect_uri = _redirect_uri(redirect_uri)
        self.base_url = _validate.base_url(base_url, allow_cleartext_http=allow_cleartext_http)
        self._transport = transport or Transport(
            timeout=timeout, ca_certs=ca_certs, max_response_bytes=max_response_bytes
        )
        self._asked: tuple[str, ...] = ()

    def __repr__(self) -> str:
        # getattr: a repr of a half-built object (in a traceback's locals) must work too
        client_id = getattr(self, "client_id", "")
        return (
            f"v2.FlattrAuth(base_url={getattr(self, 'base_url', None)!r}, "
            f"client_id={mask(client_id)!r}, "
            f"redirect_uri={getattr(self, 'redirect_uri', None)!r})"
        )

    def __enter__(self) -> FlattrAuth:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Close idle connections; the object stays usable."""
        self._transport.close()

    def authorize_url(self, scopes: Iterable[str] = (), *, state: str | None = None) -> str:
        """The page where the user approves the application.

        :param scopes: any of ``flattr``, ``thing``, ``email``, ``extendedread``
            (none: the user's own data only). Remembered for :meth:`fetch_token`.
        :param state: an unguessable value tied to the user's session, echoed
            back to the callback (check it with :meth:`parse_callback`).
        :returns: ``{base_url}/oauth/authorize?response_type=code&client_id=...``
        :raises ValidationError: for an unknown scope or a bad state; nothing is sent.
        """
        names = scope_names(scopes)
        params = [("response_type", "code"), ("client_id", self.client_id)]
        if self.redirect_uri is not None:
            params.append(("redirect_uri", self.redirect_uri))
        if names:
            params.append(("scope", " ".join(names)))
        checked = _state(state)
        if checked is not None:
            params.append(("state", checked))
        self._asked = names
        return f"{self.base_url}/oauth/authorize?{urlencode(params)}"

    def parse_callback(
        self, redirect_url: str, *, state: str | None = None, allow_missing_state: bool = False
    ) -> str:
        """Read the code from the URL Flattr sent the user back to.

        :param redirect_url: the full callback URL (or just its query string).
        :param state: the ``state`` given to :meth:`authorize_url`; the callback's
            must be identical.
        :param allow_missing_state: accept a callback without ``state`` (Flattr's
            servers stopped echoing it in 2016); off by default, since a
            forged callback would leave it out too.
        :returns: the authorization code, for :meth:`fetch_token`.
        :raises OAuthError: ``?error=`` in the callback (``.problem`` is the
            error, e.g. ``access_denied``), a state mismatch
            (``"state_mismatch"``) or no code (``"missing_code"``).
        :raises ValidationError: for a ``redirect_url`` that is not a string.
        """
        if not isinstance(redirect_url, str):
            raise ValidationError("redirect_url", "must be the callback URL as a string")
        if "?" in redirect_url or "#" in redirect_url:
            parts = urlsplit(redirect_url)
            query = parts.query or parts.fragment
        else:
            query = redirect_url
        params: dict[str, str] = {}
        for name, value in parse_qsl(query, keep_blank_values=True, max_num_fields=64):
            params.setdefault(name, value)
        expected = _state(state)
        returned = params.get("state")
        skip = expected is None or (returned is None and allow_missing_state)
        if not skip and (
            returned is None
            or not hmac.compare_digest(returned.encode(), (expected or "").encode())
        ):
            raise OAuthError(
                "state_mismatch",
                "the callback's state is not the one this user was sent off with; "
                "ignore this callback (it may be forged) and start again",
                advice=Advice.AUTHORIZE_AGAIN,
            )
        error = params.get("error")
        if error:
            description = params.get("error_description") or "the authorization failed"
            raise OAuthError(
                error, f"Flattr said {error}: {description}", advice=Advice.AUTHORIZE_AGAIN
            )
        code = params.get("code", "")
        if not code:
            raise OAuthError("missing_code", "the callback carries no code")
        return code

    def fetch_token(self, code: str, *, scopes: Iterable[str] | None = None) -> AccessToken:
        """Exchange the code for an access token (``POST /oauth/token``).

        The request is form-encoded with HTTP Basic client authentication; it
        is never re-sent, since a code works once.

        :param code: from :meth:`parse_callback`.
        :param scopes: the scopes asked for, when the server's answer does not
            name them (default: those of the last :meth:`authorize_url`).
        :returns: the token, with the granted scopes.
        :raises ValidationError: for an empty code; nothing is sent.
        :raises OAuthError: the server refused (``.problem`` is its ``error``).
        :raises TransportError: the server could not be reached.
        """
        if not isinstance(code, str) or not code.strip():
            raise ValidationError("code", "must be the non-empty code from the callback")
        fields = [("code", code.strip()), ("grant_type", "authorization_code")]
        del code  # nothing below may show it if it raises
        asked = self._asked if scopes is None else scope_names(scopes)
        if self.redirect_uri is not None:
            fields.append(("redirect_uri", self.redirect_uri))
        # The form goes as an opaque body, so the code is not in the Request's repr.
        request = Request(
            "POST",
            f"{self.base_url}/oauth/token",
            body=urlencode(fields).encode("ascii"),
            content_type=FORM_CONTENT_TYPE,
            headers=(("Accept", "application/json"),),
            idempotent=False,
        )
        del fields
        with scrubbed():
            response = self._transport.send(request, self._signer)
            return _token(request, response, asked)


def _token(request: Request, response: Response, asked: tuple[str, ...]) -> AccessToken:
    if response.status >= 400:
        problem, description = _responses.error_fields(response)
        if problem is None:
            raise _responses.api_error(request, response)
        raise OAuthError(
            problem,
            f"the token request failed: {problem}" + (f" ({description})" if description else ""),
            status=response.status,
            advice=_TOKEN_ADVICE.get(problem),
        )
    data = _json.obj(_responses.json_body(request, response), "token answer")
    access_token = data.get("access_token")
    if not isinstance(access_token, str) or not access_token.strip():
        raise OAuthError("invalid_response", "the token answer carries no access_token")
    token_type = data.get("token_type", "bearer")
    # Flattr changed the case of "bearer" in 2016; compare without it.
    if not isinstance(token_type, str) or token_type.lower() != "bearer":
        raise OAuthError("unsupported_token_type", "the token answer is not a bearer token")
    granted = data.get("scope")
    if isinstance(granted, str):
        try:
            names = scope_names(granted, "scope")
        except ValidationError:
            names = tuple(part for part in _SCOPE_SPLIT.split(granted) if part)
    else:
        names = asked
    return AccessToken(access_token, names, token_type)
