"""Whole-call deadlines: a timer that cuts off a call however slowly its bytes arrive.

A socket timeout bounds each read, not the call: a server that sends one
byte every so often keeps a read alive for ever. So the transport registers
each attempt's deadline here; one shared thread (:class:`Watchdog`) shuts the
attempt's sockets down when the deadline passes, which makes the blocked read
return at once, and the transport then reports the deadline. Connecting is
bounded the same way, through :func:`remaining` (the connect timeout is never
longer than what is left of the call).
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import socket
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any, Final

__all__ = ["WATCHDOG", "Watchdog", "remaining", "running_until"]

_local = threading.local()


def remaining() -> float | None:
    """Seconds left before the current thread's call must end, or ``None`` without one."""
    until: float | None = getattr(_local, "until", None)
    return None if until is None else until - time.monotonic()


class running_until:
    """Within the block, :func:`remaining` counts down to ``until`` (a monotonic time)."""

    __slots__ = ("_before", "_until")

    def __init__(self, until: float) -> None:
        self._until = until
        self._before: float | None = None

    def __enter__(self) -> None:
        self._before = getattr(_local, "until", None)
        _local.until = self._until

    def __exit__(self, *exc_info: object) -> None:
        _local.until = self._before


def _shut(sockets: Iterable[Any]) -> None:
    for sock in sockets:
        with contextlib.suppress(OSError, ValueError):  # closed already, or never connected
            sock.shutdown(socket.SHUT_RDWR)


class Watchdog:
    """Shuts down the sockets of calls that outlive their deadline; one thread for all.

    :meth:`watch` costs a lock and a heap push; the thread only wakes when
    the earliest deadline comes. Calls that finish in time leave nothing
    behind but a heap entry, dropped when its time comes or when cancelled
    entries outnumber the live ones.
    """

    _COMPACT_ABOVE: Final = 256

    def __init__(self) -> None:
        self._lock = threading.Condition(threading.Lock())
        self._heap: list[tuple[float, int]] = []
        self._live: dict[int, Callable[[], Iterable[Any]]] = {}
        self._ids = itertools.count()
        self._thread: threading.Thread | None = None
        self._pid = 0

    def watch(self, until: float, sockets: Callable[[], Iterable[Any]]) -> int:
        """Shut down ``sockets()`` at the monotonic time ``until``, unless cancelled first.

        :returns: the ticket to cancel with.
        """
        ticket = next(self._ids)
        with self._lock:
            self._start()
            self._live[ticket] = sockets
            earliest = not self._heap or until < self._heap[0][0]
            heapq.heappush(self._heap, (until, ticket))
            if len(self._heap) > self._COMPACT_ABOVE and len(self._heap) > 2 * len(self._live):
                self._heap = [(when, t) for when, t in self._heap if t in self._live]
                heapq.heapify(self._heap)
            if earliest:
                self._lock.notify()
        return ticket

    def cancel(self, ticket: int) -> bool:
        """The call ended: forget it.

        :returns: ``True`` if it ended in time, ``False`` if its sockets were shut
            down (then whatever was read may be cut short, even an answer that
            looks complete: http.client takes the end of the stream for the end
            of the headers).
        """
        with self._lock:
            return self._live.pop(ticket, None) is not None

    def _start(self) -> None:
        # A forked child has the parent's state but not its thread.
        if self._thread is None or self._pid != _getpid():
            self._pid = _getpid()
            self._heap.clear()
            self._live.clear()
            self._thread = threading.Thread(target=self._run, name="flattr-deadlines", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        with self._lock:
            while True:
                if not self._heap:
                    self._lock.wait()
                    continue
                until, ticket = self._heap[0]
                delay = until - time.monotonic()
                if delay > 0:
                    self._lock.wait(delay)
                    continue
                heapq.heappop(self._heap)
                sockets = self._live.pop(ticket, None)
                if sockets is not None:
                    _shut(sockets())


def _getpid() -> int:
    import os

    return os.getpid()


#: The process's one watchdog.
WATCHDOG: Final = Watchdog()
