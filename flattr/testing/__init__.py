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
fixtures ``fake_flattr`` and ``fake_flattr_tls``.
"""

from ._browser import ConsentError, ConsentResult, OAuth2Consent
from ._fake import FakeFlattr
from ._faults import FAULT_KINDS
from ._server import RecordedRequest
from ._state import StateError, StateFileError, StateInUseError, StateVersionError
from ._store import Consumer, Credentials, FakeThing, FakeUser
from ._v2store import BearerToken, OAuth2Client

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
