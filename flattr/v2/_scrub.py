"""Keeping secrets out of tracebacks: clear the locals of the frames an error left.

A bearer token or client secret travels down the seam in header dicts, which
are ordinary locals of the transport's and httplib2's frames. A traceback
printed with ``capture_locals=True`` (or kept by an error reporter) would
show them. :func:`scrubbed` clears the locals of every finished frame in the
error's traceback, and in those of its causes, before the error leaves the
library; the line numbers stay, so the traceback still says where it failed.
"""

from __future__ import annotations

import contextlib
import traceback
from collections.abc import Iterator

__all__ = ["scrub", "scrubbed"]

# Bounds the walk along __cause__/__context__ (a chain is rarely 3 long).
_MAX_CHAIN = 32


def scrub(error: BaseException) -> None:
    """Clear the locals of the finished frames in ``error``'s traceback and its chain."""
    seen: set[int] = set()
    pending: list[BaseException | None] = [error]
    while pending and len(seen) < _MAX_CHAIN:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        if current.__traceback__ is not None:
            # frames still running (the caller's) raise RuntimeError inside
            # clear_frames and are skipped; every frame below them is done
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
