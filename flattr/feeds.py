"""Publish a feed: one Flattr thing per blog post or podcast episode.

>>> import flattr
>>> from flattr.testing import FakeFlattr
>>> rss = '''<rss version="2.0"><channel><title>Bird notes</title>
...   <link>https://birds.example.org/</link><language>en-us</language>
...   <item><title>The robin in spring</title><link>/robin</link>
...     <description>&lt;p&gt;Robins &amp;amp; their nests.&lt;/p&gt;</description></item>
... </channel></rss>'''
>>> with FakeFlattr() as fake:
...     token = fake.issue_access_token(scopes=("read", "publish"))
...     with flattr.FlattrClient(fake.consumer.key, fake.consumer.secret, token,
...                              base_url=fake.base_url) as client:
...         report = flattr.publish_feed(client, rss)
...         again = flattr.publish_feed(client, rss)
>>> report
PublishReport(source='feed text', registered=1, skipped=0, failed=0)
>>> report.registered[0].thing.description
'Robins & their nests.'
>>> again.skipped[0].reason
<SkipReason.ALREADY_REGISTERED: 'already registered'>

:func:`publish_feed` reads RSS 2.0, Atom 1.0 and podcast feeds (iTunes tags)
with :mod:`feedparser`, maps each entry to a thing (see :mod:`flattr._feedmap`
for the rules), skips what the user already owns and registers the rest in
parallel. It is safe to run again: after a failure, a second run registers
only what is missing. Every entry ends up in exactly one list of the
:class:`PublishReport`: :attr:`~PublishReport.registered`,
:attr:`~PublishReport.skipped` or :attr:`~PublishReport.failed`.
"""

from __future__ import annotations

import contextlib
import enum
import json
import logging
import os
from collections.abc import Callable, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from flattr import _feedsource, _validate
from flattr._feedmap import (
    FeedContext,
    ThingDraft,
    entry_link,
    entry_title,
    flattr_language,
    map_entry,
    normalize_url,
)
from flattr.errors import (
    APIError,
    FlattrError,
    RegistrationError,
    UncertainResultError,
    ValidationError,
)
from flattr.models import Thing

if TYPE_CHECKING:
    from flattr.client import FlattrClient

__all__ = [
    "DEFAULT_FETCH_TIMEOUT",
    "DEFAULT_MAX_FEED_BYTES",
    "EntryResult",
    "Failed",
    "FeedSource",
    "MAX_WORKERS",
    "PublishProgress",
    "PublishReport",
    "Registered",
    "SkipReason",
    "Skipped",
    "ThingDraft",
    "publish_feed",
]

log = logging.getLogger(__name__)

#: Seconds allowed for connecting to a feed URL and for each read.
DEFAULT_FETCH_TIMEOUT: Final = 30.0
#: The largest feed accepted, from a URL or a file (big podcast feeds run to a few MiB).
DEFAULT_MAX_FEED_BYTES: Final = 16 * 1024 * 1024
#: Most parallel registrations allowed.
MAX_WORKERS: Final = 32

#: What ``source`` may be: a feed URL, a path, or the feed document itself.
FeedSource = str | bytes | os.PathLike[str]


# ---------------------------------------------------------------------------
# Results


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

    def to_dict(self) -> dict[str, Any]:
        """A plain, JSON-serialisable dict; the error as its type, message and facts."""
        return _entry_dict(self, error=_error_dict(self.error), draft=_draft_dict(self.draft))


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


def _thing_dict(thing: Thing | None) -> dict[str, Any] | None:
    if thing is None:
        return None
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


def _short_error(error: FlattrError) -> str:
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
                lines.append(f"  ! {result.url or result.title}  {_short_error(result.error)}")
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


# ---------------------------------------------------------------------------
# Publishing


def _owned_things(client: FlattrClient) -> dict[str, Thing]:
    owned: dict[str, Thing] = {}
    for thing in client.things():
        try:
            key = normalize_url(thing.url)
        except ValidationError:
            key = thing.url
        owned.setdefault(key, thing)
    return owned


def _look_up(client: FlattrClient, url: str) -> tuple[Thing | None, FlattrError | None]:
    try:
        return client.thing_by_url(url), None
    except FlattrError as exc:
        return None, exc


def _register(
    client: FlattrClient, index: int, draft: ThingDraft, warnings: tuple[str, ...]
) -> EntryResult:
    """Register one draft; never re-sends, resolves doubt with ``thing_by_url``."""
    common: dict[str, Any] = {"index": index, "url": draft.url, "title": draft.title}
    try:
        thing = client.register_thing(
            url=draft.url,
            title=draft.title,
            category=draft.category,
            description=draft.description,
            language=draft.language,
            tags=draft.tags,
            hidden=draft.hidden,
        )
    except RegistrationError as exc:
        if not exc.duplicate:
            return Failed(**common, error=exc, draft=draft, warnings=warnings)
        existing, lookup_error = _look_up(client, draft.url)
        if existing is not None:
            detail = f"the server says so; owner: {existing.owner.username}"
        elif lookup_error is not None:
            detail = f"the server says so; looking it up failed ({_short_error(lookup_error)})"
        else:
            detail = "the server says so, but thing_by_url does not find it"
        return Skipped(
            **common,
            reason=SkipReason.ALREADY_REGISTERED,
            detail=detail,
            thing=existing,
            draft=draft,
            warnings=warnings,
        )
    except UncertainResultError as exc:
        existing, lookup_error = _look_up(client, draft.url)
        if existing is not None:
            log.info("register %s: the answer was lost, but the thing exists", draft.url)
            note = "the server's answer was lost; thing_by_url confirmed the registration"
            return Registered(**common, draft=draft, thing=existing, warnings=(*warnings, note))
        if lookup_error is not None:
            note = f"checking with thing_by_url failed too ({_short_error(lookup_error)})"
            warnings = (*warnings, note)
        return Failed(**common, error=exc, draft=draft, warnings=warnings)
    except FlattrError as exc:
        return Failed(**common, error=exc, draft=draft, warnings=warnings)
    log.info("registered %s as thing %s", draft.url, thing.id)
    return Registered(**common, draft=draft, thing=thing, warnings=warnings)


def _check_options(
    workers: object,
    category: object,
    language: object,
    hidden: object,
    on_progress: object,
) -> tuple[int, str | None, str | None, bool]:
    if isinstance(workers, bool) or not isinstance(workers, int) or not 1 <= workers <= MAX_WORKERS:
        raise ValidationError("workers", f"must be a whole number from 1 to {MAX_WORKERS}")
    checked_category = None if category is None else _validate.category(category)
    checked_language = None
    if language is not None:
        checked_language = flattr_language(language)
        if checked_language is None:
            _validate.language(language)  # raises, naming the field and the choices
    if on_progress is not None and not callable(on_progress):
        raise ValidationError("on_progress", "must be a callable or None")
    return workers, checked_category, checked_language, _validate.hidden(hidden)


def publish_feed(
    client: FlattrClient,
    source: FeedSource,
    *,
    dry_run: bool = False,
    workers: int = 4,
    category: str | None = None,
    language: str | None = None,
    hidden: bool = False,
    on_progress: Callable[[PublishProgress], object] | None = None,
    fetch_timeout: float = DEFAULT_FETCH_TIMEOUT,
    ca_certs: str | None = None,
    max_feed_bytes: int = DEFAULT_MAX_FEED_BYTES,
) -> PublishReport:
    """Register one thing per entry of a feed, skipping what is already registered.

    The user's things are listed once; an entry whose URL (normalised) is
    among them is skipped, so running it again after a failure registers only
    what is missing. The rest are registered by ``workers`` threads sharing
    ``client`` (one connection each). An entry that fails never stops the
    others, and nothing is sent twice: a register whose answer was lost
    (:class:`~flattr.UncertainResultError`) is looked up with
    :meth:`~flattr.FlattrClient.thing_by_url` and counts as registered when
    found, as failed otherwise; a URL the server says is taken counts as
    skipped.

    How an entry becomes a thing: the URL is its link made absolute
    (``xml:base``, then the feed's link, then the feed's URL) and normalised;
    the description is the summary or content as plain text, cut to 1000
    characters on a word boundary (the title when there is none, with a
    warning); tags come from its categories; the language is the entry's or
    the feed's mapped onto Flattr's 45 (``en-us`` → ``en_GB``); the category
    is ``audio``/``video`` for an entry with such an enclosure, else ``text``.

    :param client: a client whose token has the ``read`` and ``publish`` scopes.
    :param source: an ``http(s)://`` feed URL, a path (``str`` or
        :class:`os.PathLike`) to a feed file, or the feed document itself
        (``bytes``, or a ``str`` starting with ``<``).
    :param dry_run: send no register call; the report's ``registered`` lists
        what would be registered. The user's things are still listed.
    :param workers: parallel registrations, 1 to 32.
    :param category: the category of every thing, instead of guessing it.
    :param language: the language for entries whose own (and the feed's)
        language is missing or not one of Flattr's; a Flattr id like
        ``"en_GB"`` or a tag like ``"en-us"``. Without it, such entries fail
        with a :class:`~flattr.ValidationError`.
    :param hidden: register every thing as hidden.
    :param on_progress: called in the calling thread once per finished entry
        (skipped and failed ones too) with a :class:`PublishProgress`; an
        exception it raises stops publishing (registrations under way are
        finished first, the report is lost, and a re-run is safe).
    :param fetch_timeout: seconds allowed for connecting to a feed URL and for each read.
    :param ca_certs: a PEM bundle of CAs to trust for an ``https://`` feed URL.
    :param max_feed_bytes: the largest feed accepted.
    :returns: the report; every entry is in exactly one of its lists.
    :raises ValidationError: a bad option, or a ``source`` that is not a
        feed (a malformed document with no entries, an HTML page, a missing
        file), before anything is registered.
    :raises TransportError: the feed URL could not be fetched (``TLSError``
        for an untrusted certificate).
    :raises ResponseTooLargeError: the feed is larger than ``max_feed_bytes``.
    :raises FlattrError: listing the user's things failed (e.g.
        :class:`~flattr.AuthenticationError`); nothing was registered.
    """
    workers, category, fallback_language, hidden = _check_options(
        workers, category, language, hidden, on_progress
    )
    loaded = _feedsource.load(
        source, timeout=fetch_timeout, max_bytes=max_feed_bytes, ca_certs=ca_certs
    )
    feed = _feedsource.parse(loaded)
    context = FeedContext(
        base_url=feed.base_url,
        feed_title=feed.title,
        feed_language=feed.language,
        category=category,
        language=fallback_language,
        hidden=hidden,
    )
    total = len(feed.entries)
    results: dict[int, EntryResult] = {}

    def finish(result: EntryResult) -> None:
        results[result.index] = result
        if on_progress is not None:
            on_progress(PublishProgress(len(results), total, result))

    # The user's things are listed first, so each entry can be sent as soon as
    # it is mapped: mapping the rest overlaps with the registrations under way.
    owned = _owned_things(client) if total else {}
    first_with_url: dict[str, int] = {}
    with contextlib.closing(_Registrar(client, workers)) as registrar:
        for index, entry in enumerate(feed.entries):
            outcome = _plan(index, entry, context, owned, first_with_url, dry_run)
            if isinstance(outcome, _Pending):
                registrar.submit(outcome)
            else:
                finish(outcome)
            for result in registrar.finished(block=False):
                finish(result)
        while registrar.busy:
            for result in registrar.finished(block=True):
                finish(result)

    ordered = [results[index] for index in sorted(results)]
    return PublishReport(
        source=loaded.label,
        feed_title=feed.title,
        dry_run=dry_run,
        registered=tuple(r for r in ordered if isinstance(r, Registered)),
        skipped=tuple(r for r in ordered if isinstance(r, Skipped)),
        failed=tuple(r for r in ordered if isinstance(r, Failed)),
        warnings=feed.warnings,
    )


@dataclass(frozen=True, slots=True)
class _Pending:
    """An entry to register."""

    index: int
    draft: ThingDraft
    warnings: tuple[str, ...]


def _plan(
    index: int,
    entry: Mapping[str, Any],
    context: FeedContext,
    owned: Mapping[str, Thing],
    first_with_url: dict[str, int],
    dry_run: bool,
) -> EntryResult | _Pending:
    """What to do with one entry: a result already, or a registration to send."""
    try:
        draft, warnings = map_entry(entry, context)
    except ValidationError as exc:
        return Failed(
            index=index,
            url=entry_link(entry, context.base_url),
            title=entry_title(entry),
            error=exc,
        )
    common: dict[str, Any] = {
        "index": index,
        "url": draft.url,
        "title": draft.title,
        "draft": draft,
        "warnings": warnings,
    }
    if draft.url in owned:
        return Skipped(
            **common,
            reason=SkipReason.ALREADY_REGISTERED,
            detail="you own it",
            thing=owned[draft.url],
        )
    if draft.url in first_with_url:
        return Skipped(
            **common,
            reason=SkipReason.DUPLICATE_ENTRY,
            detail=f"same URL as entry {first_with_url[draft.url] + 1}",
        )
    first_with_url[draft.url] = index
    if dry_run:
        return Registered(**common, thing=None)
    return _Pending(index, draft, warnings)


class _Registrar:
    """Runs registrations on up to ``workers`` threads; results are collected by the caller."""

    def __init__(self, client: FlattrClient, workers: int) -> None:
        self._client = client
        self._workers = workers
        self._executor: ThreadPoolExecutor | None = None
        self._futures: set[Future[EntryResult]] = set()

    @property
    def busy(self) -> bool:
        """Whether registrations are still under way or waiting."""
        return bool(self._futures)

    def submit(self, pending: _Pending) -> None:
        if self._executor is None:
            self._executor = ThreadPoolExecutor(
                max_workers=self._workers, thread_name_prefix="flattr-publish"
            )
        self._futures.add(
            self._executor.submit(
                _register, self._client, pending.index, pending.draft, pending.warnings
            )
        )

    def finished(self, *, block: bool) -> list[EntryResult]:
        """The results finished so far; with ``block``, waits for at least one."""
        if not self._futures:
            return []
        done, self._futures = wait(
            self._futures, timeout=None if block else 0, return_when=FIRST_COMPLETED
        )
        return [future.result() for future in done]

    def close(self) -> None:
        """Cancel what has not started; wait for what has (a register is never abandoned)."""
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
