"""``flattr feed links``: the auto-submit (payment) link of every entry of a feed.

Each entry is mapped to a thing exactly as ``flattr feed publish`` maps it
(:mod:`flattr.feeds._mapping`), and the thing's fields go into
:func:`flattr.auto_submit_url`: the link a feed puts in
``<atom:link rel="payment">`` (RSS) or ``<link rel="payment">`` (Atom), which
creates the thing on its first flattr. Nothing is sent to Flattr.
"""

from __future__ import annotations

import argparse
from typing import Any

from flattr import _validate, auto_submit_url
from flattr.errors import ValidationError
from flattr.feeds import _source
from flattr.feeds._mapping import (
    FeedContext,
    entry_link,
    entry_title,
    flattr_language,
    map_entry,
)
from flattr.feeds._publish import DEFAULT_FETCH_TIMEOUT, DEFAULT_MAX_FEED_BYTES

from ._errors import EXIT_FAILURE, EXIT_USAGE, CLIError
from ._output import clean, print_json
from ._registry import Context, command

__all__ = ["run_feed_links"]


def _links_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "source",
        help="the feed's http(s) URL, a path to a feed file, or - to read it from stdin",
    )
    parser.add_argument(
        "--user-id",
        default=None,
        metavar="USERNAME",
        help="the Flattr user name the things belong to (auto-submit's user_id; default: "
        "the user the profile is logged in as)",
    )
    parser.add_argument(
        "--category", default=None, help="the category of every thing instead of guessing it"
    )
    parser.add_argument(
        "--language",
        default=None,
        help="the language for entries whose feed gives none Flattr knows, e.g. en_GB",
    )
    parser.add_argument(
        "--hidden", action="store_true", default=False, help="mark every thing hidden"
    )


def _user_id(ctx: Context) -> str:
    if ctx.args.user_id:
        return str(ctx.args.user_id)
    # The user name is the account's, whichever API the profile logged in to.
    try:
        _, record = ctx.settings.load_token()
    except CLIError:
        record = None
    if record is None or not record.username:
        raise CLIError(
            "give --user-id USERNAME (the Flattr user the things belong to), or log in first "
            "so the profile knows who you are",
            EXIT_USAGE,
        )
    return record.username


@command(
    "feed links",
    "print each feed entry's auto-submit (payment) link",
    "Map every entry of an RSS 2.0, Atom 1.0 or podcast feed as `feed publish` does and "
    'print its auto-submit link, for the feed\'s rel="payment" links. The first flattr '
    "of such a link creates the thing. Nothing is sent to Flattr. Exit status 1 when an "
    "entry could not be mapped.",
    arguments=_links_arguments,
    examples=(
        "flattr feed links https://pod.example.org/feed.xml --user-id alice",
        "flattr feed links podcast.xml --json",
    ),
)
def run_feed_links(ctx: Context) -> int:
    """Run ``flattr feed links FEED``."""
    args, out, err = ctx.args, ctx.out, ctx.err
    user_id = _user_id(ctx)
    source: str | bytes = args.source
    if args.source == "-":
        source = (
            ctx.stdin.buffer.read() if hasattr(ctx.stdin, "buffer") else ctx.stdin.read().encode()
        )
        if not source.strip():
            raise CLIError("the feed on stdin is empty", EXIT_USAGE)
    try:
        auto_submit_url(user_id, "https://example.org/")
    except ValidationError as exc:
        raise CLIError(f"--user-id: {exc.message}", EXIT_USAGE) from None
    language = args.language
    try:
        category = None if args.category is None else _validate.category(args.category)
        if language is not None:
            language = flattr_language(language) or _validate.language(language)
    except ValidationError as exc:
        raise CLIError(f"--{exc.field}: {exc.message}", EXIT_USAGE) from None
    loaded = _source.load(
        source,
        timeout=DEFAULT_FETCH_TIMEOUT,
        max_bytes=DEFAULT_MAX_FEED_BYTES,
        ca_certs=ctx.settings.ca_certs,
    )
    feed = _source.parse(loaded)
    context = FeedContext(
        base_url=feed.base_url,
        feed_title=feed.title,
        feed_language=feed.language,
        category=category,
        language=language,
        hidden=args.hidden,
    )
    rows: list[dict[str, Any]] = []
    for index, entry in enumerate(feed.entries):
        try:
            draft, warnings = map_entry(entry, context)
            link = auto_submit_url(
                user_id,
                draft.url,
                title=draft.title,
                description=draft.description,
                language=draft.language,
                tags=draft.tags,
                hidden=draft.hidden,
                category=draft.category,
            )
        except ValidationError as exc:
            rows.append(
                {
                    "index": index,
                    "url": entry_link(entry, context.base_url) or None,
                    "title": entry_title(entry),
                    "link": None,
                    "error": {"field": exc.field, "message": exc.message},
                }
            )
            continue
        rows.append(
            {
                "index": index,
                "url": draft.url,
                "title": draft.title,
                "link": link,
                "warnings": list(warnings),
            }
        )
    failed = [row for row in rows if row["link"] is None]
    if ctx.json:
        print_json({"source": loaded.label, "user_id": user_id, "entries": rows}, out)
    else:
        for row in rows:
            if row["link"] is not None:
                print(row["link"], file=out)
        for row in failed:
            what = clean(row["url"] or row["title"] or f"entry {row['index'] + 1}")
            error = row["error"]
            print(f"flattr: entry {what}: {error['field']}: {error['message']}", file=err)
    return EXIT_FAILURE if failed else 0
