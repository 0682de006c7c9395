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

import logging
import typing

from flattr._http import Transport
from flattr._version import __version__
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

# Documented, and named in signatures, as flattr.Transport: its public home.
Transport.__module__ = __name__

# flattr.feeds (a dozen dataclasses and its own imports) loads on first use,
# so that `import flattr` costs little more than its dependencies (see
# docs/performance.rst); flattr.publish_feed and the rest work as before.
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


def __getattr__(name: str) -> object:
    if name == "auto_submit_url":  # with flattr.v2's catalogue, also on first use
        from flattr._autosubmit import auto_submit_url

        return auto_submit_url
    if name in _FEEDS_NAMES:
        from flattr import feeds

        return getattr(feeds, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_FEEDS_NAMES, "auto_submit_url"})
