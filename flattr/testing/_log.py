"""The request log: the last N requests, kept compactly, and a count of the ones dropped.

A :class:`RecordedRequest` keeps the header block as bytes and parses it
when asked, so an entry costs about the size of the request itself. Long
bodies are kept truncated; the bodies of requests refused as unauthenticated
(401) are cut shorter still, so a client that cannot sign costs the server
nothing lasting.
"""

from __future__ import annotations

import threading
from collections import deque
from urllib.parse import parse_qs

from ._http1 import header_fields
from ._oauth import lenient_params
from ._wire import Incoming

__all__ = ["REFUSED_BODY_KEPT", "RecordedRequest", "RequestLog"]

#: Bytes of body kept for a request answered 401 (whatever the limit).
REFUSED_BODY_KEPT = 256
#: Bytes of header block kept per request; more is cut at a line end.
HEAD_KEPT = 8 * 1024


class RecordedRequest:
    """One request the fake received, as it arrived.

    ``query`` maps each name to all its values; ``oauth_params`` holds the
    OAuth parameters from wherever they came (header, query, or the form
    body of a POST); ``status`` is what the fake answered (``None`` when a
    fault dropped the connection); ``connection_id`` numbers the TCP
    connection, from 1. ``body`` may be cut to the log's limit:
    ``truncated`` says so and ``body_size`` is the length that arrived.
    Its :func:`repr` shows no header, body or OAuth value.
    """

    # A dict, so that autodoc shows each attribute with its words.
    __slots__ = {
        "_fields": None,
        "_oauth": None,
        "_query": None,
        "body": "The body, or its first bytes when :attr:`truncated`.",
        "body_size": "How many bytes of body arrived.",
        "connection_id": "Which TCP connection carried it, numbered from 1.",
        "method": "The HTTP method, as sent (``GET``, ``POST``, ...).",
        "path": "The path, without the query string, still percent-encoded.",
        "status": "The status the fake answered, ``None`` when a fault dropped the connection.",
        "truncated": "Whether :attr:`body` (or the headers) were cut to the log's limits.",
    }

    def __init__(
        self,
        *,
        method: str,
        path: str,
        query: str,
        fields: bytes,
        body: bytes,
        status: int | None,
        connection_id: int,
        body_limit: int,
    ) -> None:
        limit = min(body_limit, REFUSED_BODY_KEPT) if status == 401 else body_limit
        oauth: tuple[tuple[str, str], ...] | None = None
        cut_fields = len(fields) > HEAD_KEPT
        if len(body) > limit or cut_fields:
            # What is cut away may hold OAuth parameters: read them now.
            oauth = tuple(_oauth_of(method, path, query, fields, body).items())
        self.method = method
        self.path = path
        self._query = query
        self._fields = (
            fields[: max(fields.rfind(b"\r\n", 0, HEAD_KEPT), 0)] if cut_fields else fields
        )
        self.body = body[:limit] if len(body) > limit else body
        self.body_size = len(body)
        self.truncated = len(body) > limit or cut_fields
        self._oauth = oauth
        self.status = status
        self.connection_id = connection_id

    @property
    def query(self) -> dict[str, list[str]]:
        """Each query parameter's values (a new dict on every access)."""
        return parse_qs(self._query, keep_blank_values=True)

    @property
    def headers(self) -> dict[str, str]:
        """The headers, names as sent (a new dict on every access)."""
        return dict(header_fields(self._fields))

    @property
    def oauth_params(self) -> dict[str, str]:
        """The OAuth parameters, merged from header, query and a POST's form body."""
        if self._oauth is not None:
            return dict(self._oauth)
        return _oauth_of(self.method, self.path, self._query, self._fields, self.body)

    def header(self, name: str) -> str | None:
        """One header's value by case-insensitive name, or ``None``."""
        wanted = name.lower()
        return next((v for k, v in header_fields(self._fields) if k.lower() == wanted), None)

    def __repr__(self) -> str:
        return (
            f"RecordedRequest(method={self.method!r}, path={self.path!r}, "
            f"status={self.status!r}, connection_id={self.connection_id!r})"
        )


def _oauth_of(method: str, path: str, query: str, fields: bytes, body: bytes) -> dict[str, str]:
    headers = {k.lower(): v for k, v in header_fields(fields)}
    return lenient_params(Incoming(method, "http", "", path, query, headers, body))


class RequestLog:
    """The bounded, thread-safe log of one server.

    :param max_entries: requests kept (the oldest go first); ``None`` for no limit.
    :param body_limit: bytes of each body kept.
    :param enabled: whether requests are recorded at all.
    """

    def __init__(self, max_entries: int | None, body_limit: int, enabled: bool) -> None:
        if max_entries is not None and max_entries < 0:
            raise ValueError("max_recorded must be 0 or more (or None for no limit)")
        if body_limit < 0:
            raise ValueError("max_recorded_body must be 0 or more")
        self._lock = threading.Lock()
        self._entries: deque[RecordedRequest] = deque(maxlen=max_entries)
        self.body_limit = body_limit
        self.enabled = enabled
        self._dropped = 0

    def add(
        self,
        *,
        method: str,
        path: str,
        query: str,
        fields: bytes,
        body: bytes,
        status: int | None,
        connection_id: int,
    ) -> None:
        """Record one request (or count it as dropped when recording is off)."""
        if not self.enabled:
            with self._lock:
                self._dropped += 1
            return
        entry = RecordedRequest(
            method=method,
            path=path,
            query=query,
            fields=fields,
            body=body,
            status=status,
            connection_id=connection_id,
            body_limit=self.body_limit,
        )
        with self._lock:
            entries = self._entries
            if entries.maxlen is not None and len(entries) == entries.maxlen:
                self._dropped += 1
            entries.append(entry)

    @property
    def entries(self) -> list[RecordedRequest]:
        """A copy of the log, oldest first."""
        with self._lock:
            return list(self._entries)

    @property
    def dropped(self) -> int:
        """Requests not in the log: pushed out by the limit, or not recorded."""
        with self._lock:
            return self._dropped

    def clear(self, *, counts: bool = False) -> None:
        """Empty the log; with ``counts``, also zero the dropped count."""
        with self._lock:
            self._entries.clear()
            if counts:
                self._dropped = 0
