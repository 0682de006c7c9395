"""A faithful fake of Flattr's OAuth 1.0a REST API 0.0.1, for tests and demos.

:class:`FakeFlattr` runs a real HTTP(S) server on ``127.0.0.1`` in a
background thread. It checks real HMAC-SHA1 signatures, runs the
three-legged OAuth flow (with a consent page a browser can use), answers
every 0.0.1 resource in the XML shape Flattr's servers used in 2010, and
can be told to misbehave (:meth:`FakeFlattr.inject_fault`). On the same
address and from the same data it also speaks API v2: an OAuth 2 provider
(``/oauth/authorize``, ``/oauth/token``) and every ``/rest/v2`` resource in
the JSON shape of Flattr's official examples.

It is an independent implementation (stdlib, oauthlib, defusedxml and,
for TLS, trustme): it shares no code with the :mod:`flattr` client.

Example, signing by hand with oauthlib:

>>> import http.client
>>> from oauthlib.oauth1 import Client
>>> from flattr.testing import FakeFlattr
>>> with FakeFlattr() as fake:
...     token = fake.issue_access_token(scopes=("read",))
...     client = Client(fake.consumer.key, fake.consumer.secret,
...                     token.key, token.secret)
...     url = fake.base_url + "/rest/0.0.1/user/me"
...     _, headers, _ = client.sign(url)
...     conn = http.client.HTTPConnection(fake.base_url[len("http://"):])
...     conn.request("GET", "/rest/0.0.1/user/me", headers=headers)
...     answer = conn.getresponse()
...     body = answer.read()
...     conn.close()
>>> answer.status, b"<username>" in body
(200, True)

The pytest plugin (:mod:`flattr.testing.pytest_plugin`) offers the
fixtures ``fake_flattr``, ``fake_flattr_tls`` and, for large suites,
``fake_flattr_shared`` (one server, reset before each test).
"""

import importlib as _importlib
import typing as _typing

if _typing.TYPE_CHECKING:
    from ._browser import ConsentError, ConsentResult, OAuth2Consent
    from ._fake import FakeFlattr
    from ._faults import FAULT_KINDS
    from ._log import RecordedRequest
    from ._state import StateError, StateFileError, StateInUseError, StateVersionError
    from ._store import Consumer, Credentials, FakeThing, FakeUser
    from ._v2store import BearerToken, OAuth2Client

# Loaded on first use, so that the pytest plugin (a submodule) costs nothing
# until a fixture runs.
_HOMES = {
    "BearerToken": "._v2store",
    "ConsentError": "._browser",
    "ConsentResult": "._browser",
    "Consumer": "._store",
    "Credentials": "._store",
    "FAULT_KINDS": "._faults",
    "FakeFlattr": "._fake",
    "FakeThing": "._store",
    "FakeUser": "._store",
    "OAuth2Client": "._v2store",
    "OAuth2Consent": "._browser",
    "RecordedRequest": "._log",
    "StateError": "._state",
    "StateFileError": "._state",
    "StateInUseError": "._state",
    "StateVersionError": "._state",
}

__all__ = [
    "BearerToken",
    "ConsentError",
    "ConsentResult",
    "Consumer",
    "Credentials",
    "FAULT_KINDS",
    "FakeFlattr",
    "FakeThing",
    "FakeUser",
    "OAuth2Client",
    "OAuth2Consent",
    "RecordedRequest",
    "StateError",
    "StateFileError",
    "StateInUseError",
    "StateVersionError",
]


def __getattr__(name: str) -> object:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(_importlib.import_module(home, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_HOMES})
