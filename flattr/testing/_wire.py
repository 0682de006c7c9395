"""Plain values passed between the HTTP layer and the resource handlers."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import parse_qsl

FORM_TYPE = "application/x-www-form-urlencoded"
XML_TYPE = "text/xml; charset=utf-8"
HTML_TYPE = "text/html; charset=utf-8"


@dataclass(frozen=True, slots=True)
class Incoming:
    """One request as it arrived: raw path and query, lower-cased header names.

    :param scheme: ``http`` or ``https``, as the connection really is.
    :param host: the ``Host`` header (or the server address when absent).
    """

    method: str
    scheme: str
    host: str
    path: str
    query: str
    headers: dict[str, str] = field(repr=False)
    body: bytes = field(repr=False)

    def header(self, name: str) -> str | None:
        """One header's value, by case-insensitive name."""
        return self.headers.get(name.lower())

    @property
    def is_form(self) -> bool:
        """Whether the body is ``application/x-www-form-urlencoded``."""
        ctype = self.header("content-type") or ""
        return ctype.split(";", 1)[0].strip().lower() == FORM_TYPE

    def query_pairs(self) -> list[tuple[str, str]]:
        """The query string as decoded name/value pairs, blanks kept."""
        return parse_qsl(self.query, keep_blank_values=True)

    def form_pairs(self) -> list[tuple[str, str]]:
        """The form body as decoded pairs (empty unless the body is a form).

        :raises UnicodeDecodeError: the body is not UTF-8.
        """
        if not self.is_form or not self.body:
            return []
        return parse_qsl(self.body.decode("utf-8"), keep_blank_values=True)


@dataclass(slots=True)
class Outgoing:
    """One answer to send: status, content type, body and extra headers."""

    status: int
    content_type: str
    body: bytes
    headers: list[tuple[str, str]] = field(default_factory=list)
