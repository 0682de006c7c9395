"""The one seam where requests are signed and sent.

Nothing else in :mod:`flattr` imports httplib2 or builds a signature. It is
built in floors, each importing only the ones below it:

- :mod:`~flattr._http.messages`: :class:`Request`, :class:`SignedRequest`,
  :class:`Response`, plain values;
- :mod:`~flattr._http.signing`: OAuth 1 (:class:`Signer` over
  :class:`Credentials`), bearer tokens (:class:`BearerSigner`), HTTP Basic
  client authentication (:class:`BasicSigner`), or nothing
  (:class:`Unsigned`);
- :mod:`~flattr._http.connections`: httplib2 connections with capped reads and
  stale-socket checks, and the table that maps their failures to
  :mod:`flattr.errors`;
- :mod:`~flattr._http.transport`: :class:`Transport`, which signs each
  attempt, sends it and retries what is safe.

Mapping statuses to exceptions and parsing bodies happen above the seam
(:mod:`flattr._responses`, :mod:`flattr._xml`).
"""

from flattr._http.connections import DEFAULT_MAX_RESPONSE_BYTES
from flattr._http.messages import FORM_CONTENT_TYPE, Request, Response, SignedRequest
from flattr._http.signing import (
    BasicSigner,
    BearerSigner,
    Credentials,
    RequestSigner,
    Signer,
    Unsigned,
    sign,
)
from flattr._http.transport import DEFAULT_TIMEOUT, Transport

__all__ = [
    "DEFAULT_MAX_RESPONSE_BYTES",
    "DEFAULT_TIMEOUT",
    "FORM_CONTENT_TYPE",
    "BasicSigner",
    "BearerSigner",
    "Credentials",
    "Request",
    "RequestSigner",
    "Response",
    "SignedRequest",
    "Signer",
    "Transport",
    "Unsigned",
    "sign",
]
