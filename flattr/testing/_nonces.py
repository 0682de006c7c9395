"""Nonce memory with a fixed size, that never lets a replay through.

A nonce is remembered with the request's ``oauth_timestamp`` for as long as
that timestamp could still pass the timestamp check. When more nonces arrive
within that time than the book holds, the oldest is forgotten and the book
raises a *floor*: from then on a timestamp at or below the forgotten one is
refused, so the forgotten request can never be replayed. Under an ordinary
load the floor stays below ``now - tolerance`` and changes nothing.

Nonces of the last two seconds are not forgotten for the limit (up to four
times the limit), so the floor stays behind a correct clock even when more
than ``limit`` requests arrive in one second.

Keys are keyed 64-bit hashes (a per-process key, so nobody can aim for a
collision): an entry costs about a hundred bytes, whatever the client sent.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
from collections import OrderedDict

__all__ = ["NonceBook"]


class NonceBook:
    """The nonces seen recently, at most ``limit`` of them.

    :param limit: nonces remembered at once (at least 1).
    """

    def __init__(self, limit: int) -> None:
        if limit < 1:
            raise ValueError("max_nonces must be 1 or more")
        self.limit = limit
        self._lock = threading.Lock()
        self._seen: OrderedDict[int, int] = OrderedDict()
        self._floor: int | None = None
        self._key = secrets.token_bytes(16)

    @property
    def floor(self) -> int | None:
        """Timestamps at or below this are refused (``None``: no nonce was forgotten early)."""
        with self._lock:
            return self._floor

    def __len__(self) -> int:
        with self._lock:
            return len(self._seen)

    def use(
        self, scope: tuple[str, str], nonce: str, timestamp: int, oldest: int, now: int
    ) -> bool:
        """Record ``nonce``; tell whether it is fresh.

        :param scope: the consumer key and token key it belongs to.
        :param timestamp: the request's ``oauth_timestamp`` (already checked).
        :param oldest: the lowest timestamp the check accepts now; older
            entries are forgotten (a replay of them fails the check anyway).
        :param now: the server's time, in seconds.
        :returns: ``False`` when the same consumer, token and nonce are remembered.
        """
        digest = hashlib.blake2b(
            "\0".join((*scope, nonce)).encode("utf-8", "surrogatepass"),
            digest_size=8,
            key=self._key,
        ).digest()
        key = int.from_bytes(digest, "big")
        with self._lock:
            seen = self._seen
            # Insertion order is nearly timestamp order; stop at the first one still live.
            while seen:
                first = next(iter(seen))
                if seen[first] >= oldest:
                    break
                del seen[first]
            if key in seen:
                return False
            seen[key] = timestamp
            while len(seen) > self.limit:
                if seen[next(iter(seen))] >= now - 1 and len(seen) <= 4 * self.limit:
                    break  # forgetting it would refuse clocks that are right
                _, forgotten = seen.popitem(last=False)
                if self._floor is None or forgotten > self._floor:
                    self._floor = forgotten
            return True

    def clear(self) -> None:
        """Forget every nonce and the floor."""
        with self._lock:
            self._seen.clear()
            self._floor = None
