"""A client for Flattr's REST APIs: 0.0.1 (OAuth 1.0a, XML) and v2 (:mod:`flattr.v2`).

>>> import flattr
>>> flattr.FlattrAuth("consumer-key", "consumer-secret", "oob")
FlattrAuth(base_url='https://api.flattr.com', consumer_key='cons…', callback_url='oob')

- :class:`FlattrAuth` runs the three-legged OAuth flow;
- :class:`FlattrClient` calls every REST resource with a stored access token;
- every failure is a :class:`FlattrError`;
- :mod:`flattr.v2` is the same for API v2 (OAuth 2, JSON), and
  :func:`auto_submit_url` builds v2's payment links;
- :mod:`flattr.testing` is a faithful fake Flattr server for your tests.
"""

from __future__ import annotations

import importlib
import logging
import typing

from flattr._version import __version__

if typing.TYPE_CHECKING:
    from flattr._http import Transport
    from flattr.auth import FlattrAuth
    from flattr.client import FlattrClient
    from flattr.errors import (
        Advice,
        APIError,
        AuthenticationError,
        ClientError,
        ConnectTimeout,
        DeadlineExceeded,
        FlattrError,
        ForbiddenError,
        NotFoundError,
        OAuthError,
        RateLimitError,
        ReadTimeout,
        RegistrationError,
        ResponseError,
        ResponseTooLargeError,
        ServerError,
        TLSError,
        TokenStoreError,
        TransportError,
        TransportTimeout,
        UncertainResultError,
        ValidationError,
    )
    from flattr.models import (
        AccessToken,
        Category,
        Language,
        Owner,
        RequestToken,
        Thing,
        ThingStatus,
        User,
    )


__all__ = [
    "APIError",
    "AccessToken",
    "Advice",
    "AuthenticationError",
    "Category",
    "ClientError",
    "ConnectTimeout",
    "DeadlineExceeded",
    "Failed",
    "FlattrAuth",
    "FlattrClient",
    "FlattrError",
    "ForbiddenError",
    "Language",
    "NotFoundError",
    "OAuthError",
    "Owner",
    "PublishProgress",
    "PublishReport",
    "RateLimitError",
    "ReadTimeout",
    "Registered",
    "RegistrationError",
    "RequestToken",
    "ResponseError",
    "ResponseTooLargeError",
    "ServerError",
    "SkipReason",
    "Skipped",
    "TLSError",
    "Thing",
    "ThingDraft",
    "ThingStatus",
    "TokenStoreError",
    "Transport",
    "TransportError",
    "TransportTimeout",
    "UncertainResultError",
    "User",
    "ValidationError",
    "auto_submit_url",
    "publish_feed",
    "__version__",
]

logging.getLogger(__name__).addHandler(logging.NullHandler())

# Every public name loads on first use: `import flattr` itself costs almost
# nothing, so importing a submodule alone (the pytest plugin,
# flattr.testing.pytest_plugin, loads with every pytest run) stays cheap;
# flattr.FlattrClient, flattr.publish_feed and the rest work as before.
if typing.TYPE_CHECKING:
    from flattr._autosubmit import auto_submit_url
    from flattr.feeds import (
        Failed,
        PublishProgress,
        PublishReport,
        Registered,
        Skipped,
        SkipReason,
        ThingDraft,
        publish_feed,
    )

_FEEDS_NAMES = frozenset(
    {
        "Failed",
        "PublishProgress",
        "PublishReport",
        "Registered",
        "Skipped",
        "SkipReason",
        "ThingDraft",
        "publish_feed",
    }
)


_HOMES: dict[str, str] = {
    **dict.fromkeys(_FEEDS_NAMES, "flattr.feeds"),
    "auto_submit_url": "flattr._autosubmit",
    "Transport": "flattr._http",
    "FlattrAuth": "flattr.auth",
    "FlattrClient": "flattr.client",
    "APIError": "flattr.errors",
    "Advice": "flattr.errors",
    "AuthenticationError": "flattr.errors",
    "ClientError": "flattr.errors",
    "ConnectTimeout": "flattr.errors",
    "DeadlineExceeded": "flattr.errors",
    "FlattrError": "flattr.errors",
    "ForbiddenError": "flattr.errors",
    "NotFoundError": "flattr.errors",
    "OAuthError": "flattr.errors",
    "RateLimitError": "flattr.errors",
    "ReadTimeout": "flattr.errors",
    "RegistrationError": "flattr.errors",
    "ResponseError": "flattr.errors",
    "ResponseTooLargeError": "flattr.errors",
    "ServerError": "flattr.errors",
    "TLSError": "flattr.errors",
    "TokenStoreError": "flattr.errors",
    "TransportError": "flattr.errors",
    "TransportTimeout": "flattr.errors",
    "UncertainResultError": "flattr.errors",
    "ValidationError": "flattr.errors",
    "AccessToken": "flattr.models",
    "Category": "flattr.models",
    "Language": "flattr.models",
    "Owner": "flattr.models",
    "RequestToken": "flattr.models",
    "Thing": "flattr.models",
    "ThingStatus": "flattr.models",
    "User": "flattr.models",
}


def _public_transport() -> None:
    # Documented, and named in signatures, as flattr.Transport: its public home.
    from flattr._http import Transport

    Transport.__module__ = __name__


def __getattr__(name: str) -> object:
    home = _HOMES.get(name)
    if home is not None:
        value = getattr(importlib.import_module(home), name)
        _public_transport()
        globals()[name] = value
        return value
    if not name.startswith("__"):
        # A submodule used as an attribute (flattr.errors.X) after `import flattr`.
        try:
            module = importlib.import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"{__name__}.{name}":
                raise
        else:
            _public_transport()
            return module
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_HOMES})
