"""Flattr's REST API v2: OAuth 2 with bearer tokens, JSON, on the same seam as 0.0.1.

>>> from flattr import v2
>>> v2.FlattrClient(None)
v2.FlattrClient(base_url='https://api.flattr.com', token='anonymous')

- :class:`FlattrAuth` runs the OAuth 2 authorization-code flow and returns an
  :class:`AccessToken`;
- :class:`FlattrClient` calls every v2 resource with it (or anonymously);
- the models (:class:`User`, :class:`Thing`, :class:`Flattr`, ...) are frozen
  dataclasses with aware datetimes;
- failures are the same :class:`flattr.FlattrError` tree as for 0.0.1.
"""

from __future__ import annotations

from flattr.v2._auth import FlattrAuth
from flattr.v2._client import FlattrClient
from flattr.v2._models import (
    AccessToken,
    Flattr,
    MiniThing,
    Owner,
    RateLimit,
    Subscription,
    Thing,
    User,
)

__all__ = [
    "AccessToken",
    "Flattr",
    "FlattrAuth",
    "FlattrClient",
    "MiniThing",
    "Owner",
    "RateLimit",
    "Subscription",
    "Thing",
    "User",
]
