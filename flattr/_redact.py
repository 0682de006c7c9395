"""Keeping secrets out of what people and programs see: reprs, logs, messages, tracebacks.

- :class:`Secret` holds a consumer secret, token secret or verifier from the
  moment it arrives until it is signed: its ``repr`` and ``str`` are masked,
  so a traceback rendered with its locals (pytest ``--showlocals``, error
  trackers) shows ``Secret('****')`` in the library's frames.
- :func:`scrub` clears the locals of the finished frames an error leaves
  behind (the transport's and httplib2's, which hold signed headers) before
  the error reaches the caller.
- :func:`mask` shortens a public key for display.
"""

from __future__ import annotations

import contextlib
import hmac
import traceback
from collections.abc import Iterator

__all__ = ["Secret", "mask", "reveal", "scrub", "scrubbed"]


def mask(key: str) -> str:
    """A token key shortened for display: enough to tell tokens apart, no more.

    >>> mask("abcdefghij")
    'abcd…'
    >>> mask("short")
    '…'
    """
    return key[:4] + "…" if len(key) > 6 else "…"


class Secret:
    """A secret string that does not show itself.

    >>> secret = Secret("hunter2")
    >>> secret, str(secret), f"{secret}"
    (Secret('****'), '****', '****')
    >>> secret.reveal()
    'hunter2'
    """

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """The secret itself: only for signing it."""
        return self._value

    def __repr__(self) -> str:
        return "Secret('****')"

    def __str__(self) -> str:
        return "****"

    def __format__(self, spec: str) -> str:
        return "****"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Secret):
            return NotImplemented
        return hmac.compare_digest(self._value.encode(), other._value.encode())

    __hash__ = None  # type: ignore[assignment]

    def __bool__(self) -> bool:
        return bool(self._value)

    def __reduce__(self) -> str:
        raise TypeError("a Secret cannot be pickled; store the value it protects on purpose")


def reveal(value: str | Secret) -> str:
    """``value`` itself, whether it was wrapped or not."""
    return value.reveal() if isinstance(value, Secret) else value


#: Bounds the walk along ``__cause__``/``__context__`` (a chain is rarely 3 long).
_MAX_CHAIN = 32


def scrub(error: BaseException) -> None:
    """Clear the locals of the finished frames in ``error``'s traceback and its chain.

    Frames still running (the caller's) are left alone; line numbers stay, so
    the traceback still says where the call failed.
    """
    seen: set[int] = set()
    pending: list[BaseException | None] = [error]
    while pending and len(seen) < _MAX_CHAIN:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        if current.__traceback__ is not None:
            traceback.clear_frames(current.__traceback__)
        pending.extend((current.__cause__, current.__context__))


@contextlib.contextmanager
def scrubbed() -> Iterator[None]:
    """Run the block; if it raises, :func:`scrub` the error before it propagates."""
    try:
        yield
    except BaseException as error:
        scrub(error)
        raise
