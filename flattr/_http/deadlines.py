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
import os
import socket
import threading
import time
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


def _shut(pool: dict[str, Any]) -> None:
    """Shut down the sockets of an :class:`httplib2.Http`'s connections."""
    for _ in range(3):  # the owning thread may be adding a connection right now
        try:
            sockets = [conn.sock for conn in tuple(pool.values()) if conn.sock is not None]
            break
        except RuntimeError:
            continue
    else:
        return
    for sock in sockets:
        with contextlib.suppress(OSError, ValueError):  # closed already, or never connected
            sock.shutdown(socket.SHUT_RDWR)


class Watchdog:
    """Shuts down the sockets of calls that outlive their deadline; one thread for all.

    :meth:`watch` costs a lock and a heap push (it is on every call's path);
    the thread only wakes when the earliest deadline comes. Calls that finish
    in time leave nothing behind but a heap entry, dropped when its time
    comes or when cancelled entries outnumber the live ones.
    """

    _COMPACT_ABOVE: Final = 256

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._heap: list[tuple[float, int]] = []
        self._live: dict[int, dict[str, Any]] = {}
        self._ids = itertools.count()
        self._thread: threading.Thread | None = None
        self._pid = 0

    def watch(self, until: float, pool: dict[str, Any]) -> int:
        """Shut down the sockets of ``pool`` at the monotonic time ``until``, unless cancelled.

        :param until: the deadline, a :func:`time.monotonic` time.
        :param pool: an :class:`httplib2.Http`'s ``connections``.
        :returns: the ticket to cancel with.
        """
        ticket = next(self._ids)
        with self._lock:
            if self._pid != os.getpid():
                self._start()
            heap = self._heap
            self._live[ticket] = pool
            earliest = not heap or until < heap[0][0]
            heapq.heappush(heap, (until, ticket))
            if len(heap) > self._COMPACT_ABOVE and len(heap) > 2 * len(self._live):
                self._heap = [(when, t) for when, t in heap if t in self._live]
                heapq.heapify(self._heap)
            if earliest:
                self._wake.notify()
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
        # First use, or a forked child: it has the parent's state but not its thread.
        self._pid = os.getpid()
        self._heap.clear()
        self._live.clear()
        self._thread = threading.Thread(target=self._run, name="flattr-deadlines", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        with self._lock:
            while True:
                if not self._heap:
                    self._wake.wait()
                    continue
                until, ticket = self._heap[0]
                delay = until - time.monotonic()
                if delay > 0:
                    self._wake.wait(delay)
                    continue
                heapq.heappop(self._heap)
                pool = self._live.pop(ticket, None)
                if pool is not None:
                    _shut(pool)


#: The process's one watchdog.
WATCHDOG: Final = Watchdog()
