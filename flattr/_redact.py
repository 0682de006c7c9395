"""Keeping secrets out of what people and programs see: reprs, logs, messages."""

from __future__ import annotations

__all__ = ["mask"]


def mask(key: str) -> str:
    """A token key shortened for display: enough to tell tokens apart, no more.

    >>> mask("abcdefghij")
    'abcd…'
    >>> mask("short")
    '…'
    """
    return key[:4] + "…" if len(key) > 6 else "…"
