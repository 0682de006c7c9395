"""Which API a profile speaks, and a client for it.

A profile's stored token says which generation it is for
(:attr:`flattr.tokenstore.StoredToken.api`); each command has one handler
that asks :func:`open_any` for the matching client, and
:func:`require_api` for a resource that only one generation has.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flattr import v2
from flattr.client import FlattrClient
from flattr.tokenstore import API_V1, API_V2, StoredToken

from ._config import Settings
from ._errors import EXIT_USAGE, CLIError, login_command

__all__ = ["AnyClient", "open_any", "open_client", "open_v2", "profile_api", "require_api"]

AnyClient = FlattrClient | v2.FlattrClient


def profile_api(settings: Settings) -> str:
    """The API generation of the profile's stored token (``"0.0.1"`` or ``"v2"``).

    :raises CLIError: nobody is logged in under this profile.
    """
    return settings.load_token()[1].api


def require_api(settings: Settings, api: str, command: str, instead: str | None = None) -> None:
    """Refuse, as a usage error, a command the profile's API generation does not have.

    :param api: the generation the command needs.
    :param command: the command line, for the message (``"flattr thing browse"``).
    :param instead: what to use in the other generation, if anything.
    :raises CLIError: the profile is logged in to the other generation.
    """
    have = profile_api(settings)
    if have == api:
        return
    text = (
        f"`{command}` is an API {api} command, but profile {settings.profile!r} is logged in "
        f"to API {have}"
    )
    if instead:
        text += f"; use {instead}"
    elif api == API_V2:
        text += f"; log in with `{login_command(settings.profile, api=API_V2)}` (or --profile)"
    raise CLIError(text, EXIT_USAGE)


def _v1(settings: Settings, record: StoredToken) -> FlattrClient:
    key, secret = settings.consumer(record)
    assert not isinstance(record.token, v2.AccessToken)
    return FlattrClient(
        key,
        secret,
        record.token,
        base_url=settings.base_url(record),
        ca_certs=settings.ca_certs,
        timeout=settings.timeout,
    )


def _v2(settings: Settings, record: StoredToken) -> v2.FlattrClient:
    # A bearer token needs no client secret for API calls.
    assert isinstance(record.token, v2.AccessToken)
    return v2.FlattrClient(
        record.token,
        base_url=settings.base_url(record),
        ca_certs=settings.ca_certs,
        timeout=settings.timeout,
    )


@contextmanager
def open_any(settings: Settings) -> Iterator[AnyClient]:
    """A client of the profile's generation for its stored token, closed afterwards."""
    _, record = settings.load_token()
    client: AnyClient = _v2(settings, record) if record.api == API_V2 else _v1(settings, record)
    with client:
        yield client


@contextmanager
def open_client(settings: Settings) -> Iterator[FlattrClient]:
    """An API 0.0.1 client for the profile's stored token, closed afterwards.

    :raises CLIError: the profile is logged in to API v2.
    """
    require_api(settings, API_V1, "this command")
    _, record = settings.load_token()
    with _v1(settings, record) as client:
        yield client


@contextmanager
def open_v2(settings: Settings, command: str) -> Iterator[v2.FlattrClient]:
    """An API v2 client for the profile's stored token, closed afterwards.

    :raises CLIError: the profile is logged in to API 0.0.1.
    """
    require_api(settings, API_V2, command)
    _, record = settings.load_token()
    with _v2(settings, record) as client:
        yield client
