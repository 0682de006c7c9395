"""The publishing report: one result per feed entry, and the report that holds them all."""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass
from typing import Any, Final

from flattr.errors import Advice, APIError, FlattrError, ValidationError
from flattr.feeds._mapping import ThingDraft
from flattr.models import Thing

__all__ = [
    "EntryResult",
    "Failed",
    "PublishProgress",
    "PublishReport",
    "Registered",
    "SkipReason",
    "Skipped",
    "short_error",
]


class SkipReason(enum.StrEnum):
    """Why an entry was not registered."""

    #: The URL is already registered: by this user (found in their things),
    #: or, as the server said, by anyone.
    ALREADY_REGISTERED = "already registered"
    #: An earlier entry of the same feed has the same URL.
    DUPLICATE_ENTRY = "duplicate entry in the feed"


@dataclass(frozen=True, slots=True, kw_only=True)
class Registered:
    """An entry that was registered (or, in a dry run, would be).

    :ivar index: the entry's position in the feed, from 0.
    :ivar url: the thing's URL (absolute, normalised).
    :ivar title: the thing's title.
    :ivar draft: the fields that were (or would be) sent.
    :ivar thing: the registered thing as the server returned it; ``None`` in a dry run.
    :ivar warnings: what the mapping had to adapt, e.g. an empty description.
    """

    index: int
    url: str
    title: str
    draft: ThingDraft
    thing: Thing | None
    warnings: tuple[str, ...] = ()

    @property
    def outcome(self) -> str:
        """``"registered"``."""
        return "registered"

    def to_dict(self) -> dict[str, Any]:
        """A plain, JSON-serialisable dict."""
        return _entry_dict(self, draft=self.draft.to_dict(), thing=_thing_dict(self.thing))


@dataclass(frozen=True, slots=True, kw_only=True)
class Skipped:
    """An entry that was not registered because there was nothing to do.

    :ivar index: the entry's position in the feed, from 0.
    :ivar url: the entry's URL (absolute, normalised).
    :ivar title: the entry's title.
    :ivar reason: why it was skipped.
    :ivar detail: a sentence saying more (who owns it, which entry it repeats).
    :ivar thing: the thing already registered for the URL, when known.
    :ivar draft: the fields the entry maps to.
    :ivar warnings: what the mapping had to adapt.
    """

    index: int
    url: str
    title: str
    reason: SkipReason
    detail: str = ""
    thing: Thing | None = None
    draft: ThingDraft | None = None
    warnings: tuple[str, ...] = ()

    @property
    def outcome(self) -> str:
        """``"skipped"``."""
        return "skipped"

    def to_dict(self) -> dict[str, Any]:
        """A plain, JSON-serialisable dict."""
        return _entry_dict(
            self,
            reason=self.reason.value,
            detail=self.detail,
            thing=_thing_dict(self.thing),
            draft=_draft_dict(self.draft),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Failed:
    """An entry that could not be registered; running again will try it again.

    Whether that can help is :attr:`retryable`: a server that failed or could
    not be reached, a rate limit, or an answer that was lost can be got past by
    a rerun; an entry with no link, a field the server refused or a token that
    lacks a scope needs a fix first.

    :ivar index: the entry's position in the feed, from 0.
    :ivar url: the entry's URL (normalised when it could be), ``""`` when it has none.
    :ivar title: the entry's title.
    :ivar error: why: a :class:`~flattr.ValidationError` when the entry cannot
        make a valid thing (nothing was sent), or the error of the register call.
    :ivar draft: the fields that were sent, ``None`` when mapping failed.
    :ivar warnings: what the mapping had to adapt.
    """

    index: int
    url: str
    title: str
    error: FlattrError
    draft: ThingDraft | None = None
    warnings: tuple[str, ...] = ()

    @property
    def outcome(self) -> str:
        """``"failed"``."""
        return "failed"

    @property
    def retryable(self) -> bool:
        """Whether running the same publish again can register it, with nothing changed."""
        return self.error.advice in _RETRYABLE

    def to_dict(self) -> dict[str, Any]:
        """A plain, JSON-serialisable dict; the error as its type, message and facts."""
        return _entry_dict(
            self,
            error=_error_dict(self.error),
            draft=_draft_dict(self.draft),
            retryable=self.retryable,
        )


#: The advice of failures a rerun can get past: the server or network failed,
#: a rate limit, or a lost answer (a rerun looks the URL up before registering).
_RETRYABLE: Final = frozenset(
    {Advice.TRY_AGAIN, Advice.WAIT, Advice.LOOK_UP_RESULT, Advice.CHECK_SERVER}
)


#: The result for one entry.
EntryResult = Registered | Skipped | Failed


@dataclass(frozen=True, slots=True)
class PublishProgress:
    """What ``on_progress`` receives each time an entry is finished.

    :ivar done: entries finished so far, this one included (1 to ``total``).
    :ivar total: entries in the feed.
    :ivar result: this entry's result.
    """

    done: int
    total: int
    result: EntryResult


def _entry_dict(result: EntryResult, **fields: Any) -> dict[str, Any]:
    """The fields every entry result has, around its own ``fields``."""
    return {
        "outcome": result.outcome,
        "index": result.index,
        "url": result.url,
        "title": result.title,
        **fields,
        "warnings": list(result.warnings),
    }


def _draft_dict(draft: ThingDraft | None) -> dict[str, Any] | None:
    return draft.to_dict() if draft is not None else None


def _thing_dict(thing: object) -> dict[str, Any] | None:
    if thing is None:
        return None
    if not isinstance(thing, Thing):  # an API v2 thing (publish_feed with a v2 client)
        v2_thing: Any = thing
        return {
            "id": v2_thing.id,
            "url": v2_thing.url,
            "title": v2_thing.title,
            "description": v2_thing.description,
            "category": v2_thing.category,
            "language": v2_thing.language,
            "tags": list(v2_thing.tags),
            "owner": v2_thing.owner.username,
            "created": v2_thing.created.isoformat(),
            "flattrs": v2_thing.flattrs,
            "hidden": v2_thing.hidden,
        }
    return {
        "id": thing.id,
        "int_id": thing.int_id,
        "url": thing.url,
        "title": thing.title,
        "description": thing.description,
        "category": thing.category.id,
        "language": thing.language,
        "tags": list(thing.tags),
        "owner": thing.owner.username,
        "created": thing.created.isoformat(),
        "clicks": thing.clicks,
        "status": thing.status.value,
    }


def _error_dict(error: FlattrError) -> dict[str, Any]:
    data: dict[str, Any] = {"type": type(error).__name__, "message": str(error)}
    if isinstance(error, ValidationError):
        data["field"] = error.field
    if isinstance(error, APIError):
        data["status"] = error.status
    return data


def short_error(error: FlattrError) -> str:
    return f"{type(error).__name__}: {error}"


@dataclass(frozen=True, slots=True, kw_only=True)
class PublishReport:
    """What :func:`publish_feed` did with every entry of a feed.

    ``str(report)`` is a readable summary with one line per entry;
    :meth:`to_json` is the same facts for machines.

    :ivar source: the feed URL (without query), the path, or ``"feed text"``.
    :ivar feed_title: the feed's title.
    :ivar dry_run: whether nothing was registered (``registered`` then lists
        what would be).
    :ivar registered: entries registered in this run, in feed order.
    :ivar skipped: entries already registered or repeated, in feed order.
    :ivar failed: entries that failed, in feed order; run again to retry them.
    :ivar warnings: problems with the feed as a whole (e.g. recoverable XML errors).
    """

    source: str
    feed_title: str = ""
    dry_run: bool = False
    registered: tuple[Registered, ...] = ()
    skipped: tuple[Skipped, ...] = ()
    failed: tuple[Failed, ...] = ()
    warnings: tuple[str, ...] = ()

    @property
    def total(self) -> int:
        """How many entries the feed has."""
        return len(self.registered) + len(self.skipped) + len(self.failed)

    @property
    def ok(self) -> bool:
        """Whether no entry failed."""
        return not self.failed

    @property
    def retryable(self) -> tuple[Failed, ...]:
        """The failures a rerun can get past (:attr:`Failed.retryable`), in feed order."""
        return tuple(f for f in self.failed if f.retryable)

    @property
    def permanent(self) -> tuple[Failed, ...]:
        """The failures that need a fix (the feed, the options, the token) before a rerun."""
        return tuple(f for f in self.failed if not f.retryable)

    @property
    def results(self) -> tuple[EntryResult, ...]:
        """Every entry's result, in feed order."""
        merged: list[EntryResult] = [*self.registered, *self.skipped, *self.failed]
        return tuple(sorted(merged, key=lambda result: result.index))

    def summary(self) -> str:
        """One line: the counts, e.g. ``"3 registered, 1 skipped, 0 failed of 4 entries"``."""
        verb = "would be registered" if self.dry_run else "registered"
        text = (
            f"{len(self.registered)} {verb}, {len(self.skipped)} skipped, "
            f"{len(self.failed)} failed of {self.total} entries"
        )
        return f"Dry run: {text}" if self.dry_run else text

    def __str__(self) -> str:
        title = f" ({self.feed_title})" if self.feed_title else ""
        lines = [f"{self.source}{title}: {self.summary()}"]
        lines.extend(f"  warning: {warning}" for warning in self.warnings)
        for result in self.results:
            if isinstance(result, Registered):
                lines.append(f"  + {result.url}  {result.title}")
            elif isinstance(result, Skipped):
                detail = f" ({result.detail})" if result.detail else ""
                lines.append(f"  = {result.url}  {result.reason.value}{detail}")
            else:
                what = "a rerun may get past it" if result.retryable else "fix it first"
                lines.append(
                    f"  ! {result.url or result.title}  {short_error(result.error)} ({what})"
                )
            lines.extend(f"      warning: {warning}" for warning in result.warnings)
        return "\n".join(lines)

    def __repr__(self) -> str:
        dry = ", dry_run=True" if self.dry_run else ""
        return (
            f"PublishReport(source={self.source!r}, registered={len(self.registered)}, "
            f"skipped={len(self.skipped)}, failed={len(self.failed)}{dry})"
        )

    def to_dict(self) -> dict[str, Any]:
        """A plain, JSON-serialisable dict of everything in the report."""
        return {
            "source": self.source,
            "feed_title": self.feed_title,
            "dry_run": self.dry_run,
            "summary": self.summary(),
            "counts": {
                "total": self.total,
                "registered": len(self.registered),
                "skipped": len(self.skipped),
                "retryable": len(self.retryable),
                "permanent": len(self.permanent),
                "failed": len(self.failed),
            },
            "warnings": list(self.warnings),
            "registered": [result.to_dict() for result in self.registered],
            "skipped": [result.to_dict() for result in self.skipped],
            "failed": [result.to_dict() for result in self.failed],
        }

    def to_json(self, *, indent: int | None = 2) -> str:
        """:meth:`to_dict` as JSON text (UTF-8 characters kept as they are).

        :param indent: spaces per nesting level; ``None`` for one line.
        :returns: the JSON document.
        """
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False)
