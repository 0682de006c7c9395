"""The commands only API v2 has: creating, changing and deleting things, subscriptions ...

Each needs a profile logged in with ``flattr login --api v2``; on a 0.0.1
profile it is a usage error that says so.
"""

from __future__ import annotations

import argparse

from flattr.v2._catalog import CATEGORIES

from ._clients import open_v2
from ._errors import EXIT_USAGE, CLIError
from ._output import print_fields, print_json, print_table, thing_fields
from ._registry import Context, command

__all__ = ["THING_FIELDS"]

#: The options of ``thing create``/``thing update`` and the field each sets.
THING_FIELDS = ("title", "description", "category", "language", "tag", "hidden")


def _tags(values: list[str] | None) -> list[str] | None:
    if values is None:
        return None
    return [t.strip() for value in values for t in value.split(",") if t.strip()]


def _thing_options(parser: argparse.ArgumentParser, *, create: bool) -> None:
    left = "the server's default" if create else "unchanged"
    parser.add_argument("--title", default=None, help=f"the title (default: {left})")
    parser.add_argument("--description", default=None, help=f"the description ({left})")
    parser.add_argument(
        "--category",
        default=None,
        help=f"one of {', '.join(cid for cid, _ in CATEGORIES)} ({left})",
    )
    parser.add_argument("--language", default=None, help=f"a language id such as en_GB ({left})")
    parser.add_argument(
        "--tag",
        action="append",
        default=None,
        metavar="TAGS",
        help=f"tags, comma-separated or repeated ({left})",
    )
    hidden = parser.add_mutually_exclusive_group()
    hidden.add_argument(
        "--hidden",
        action="store_const",
        const=True,
        dest="hidden",
        default=None,
        help="hide it from listings and search",
    )
    if not create:
        hidden.add_argument(
            "--shown",
            action="store_const",
            const=False,
            dest="hidden",
            help="show it in listings and search again",
        )


def _create_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--url", required=True, help="the content's absolute http(s) URL")
    _thing_options(parser, create=True)


@command(
    "thing create",
    "create a thing (API v2; needs the thing scope)",
    "Create a thing owned by you with API v2 (0.0.1's `thing register`). Fields left out "
    "get the server's defaults. Sent once, never retried.",
    arguments=_create_arguments,
    scope="thing",
    examples=(
        "flattr thing create --url https://blog.example.org/hello --title 'Hello, Flattr'",
        "flattr thing create --url https://pod.example.org/ep1 --category audio --tag birds",
    ),
)
def thing_create(ctx: Context) -> int:
    """``flattr thing create --url URL [--title ...]``."""
    a = ctx.args
    with open_v2(ctx.settings, "flattr thing create") as client:
        thing_id = client.create_thing(
            a.url,
            title=a.title,
            description=a.description,
            category=a.category,
            language=a.language,
            tags=_tags(a.tag) or (),
            hidden=bool(a.hidden),
        )
        thing = client.thing(thing_id)
    if ctx.json:
        print_json(thing, ctx.out)
    else:
        print(f"Created thing {thing_id}.", file=ctx.out)
        print_fields(thing_fields(thing), ctx.out)
    return 0


def _update_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("id", help="the thing's id")
    _thing_options(parser, create=False)


@command(
    "thing update",
    "change a thing's fields (API v2; needs the thing scope)",
    "Change the title, description, category, language, tags or visibility of one of "
    "your things; its URL cannot change. Sent once, never retried.",
    arguments=_update_arguments,
    scope="thing",
    examples=("flattr thing update 42 --title 'A better title'", "flattr thing update 42 --shown"),
)
def thing_update(ctx: Context) -> int:
    """``flattr thing update ID --title ...``."""
    a = ctx.args
    fields: dict[str, object] = {
        name: value
        for name, value in (
            ("title", a.title),
            ("description", a.description),
            ("category", a.category),
            ("language", a.language),
            ("tags", _tags(a.tag)),
            ("hidden", a.hidden),
        )
        if value is not None
    }
    if not fields:
        raise CLIError(
            "give at least one of --title, --description, --category, --language, --tag, "
            "--hidden, --shown",
            EXIT_USAGE,
        )
    with open_v2(ctx.settings, "flattr thing update") as client:
        client.update_thing(a.id, **fields)
        thing = client.thing(a.id)
    if ctx.json:
        print_json(thing, ctx.out)
    else:
        print(f"Updated thing {thing.id}.", file=ctx.out)
        print_fields(thing_fields(thing), ctx.out)
    return 0


@command(
    "thing delete",
    "delete one of your things (API v2; needs the thing scope)",
    "Delete a thing you own. Sent once, never retried.",
    arguments=lambda p: p.add_argument("id", help="the thing's id"),
    scope="thing",
    examples=("flattr thing delete 42",),
)
def thing_delete(ctx: Context) -> int:
    """``flattr thing delete ID``."""
    with open_v2(ctx.settings, "flattr thing delete") as client:
        client.delete_thing(ctx.args.id)
    if ctx.json:
        print_json({"deleted": int(ctx.args.id)}, ctx.out)
    else:
        print(f"Deleted thing {ctx.args.id}.", file=ctx.out)
    return 0


@command(
    "flattr-url",
    "flattr a URL: a thing's, or an auto-submit link (API v2; needs the flattr scope)",
    "Flattr the thing registered for a URL, or the content of an auto-submit link "
    "(creating its thing first when it has none). Sent once, never retried.",
    arguments=lambda p: p.add_argument("url", help="the content URL or auto-submit URL"),
    scope="flattr",
    examples=(
        "flattr flattr-url https://blog.example.org/hello",
        "flattr flattr-url 'https://flattr.com/submit/auto?user_id=alice&url=...'",
    ),
)
def flattr_url(ctx: Context) -> int:
    """``flattr flattr-url URL``."""
    with open_v2(ctx.settings, "flattr flattr-url") as client:
        thing_id = client.flattr_url(ctx.args.url)
    if ctx.json:
        print_json({"flattred": thing_id, "url": ctx.args.url}, ctx.out)
    else:
        print(f"Flattred thing {thing_id}.", file=ctx.out)
    return 0


@command(
    "subscriptions",
    "list your subscriptions (API v2; needs the flattr scope)",
    "List the things you subscribe to (flattred again every month).",
    scope="flattr",
    examples=("flattr subscriptions", "flattr subscriptions --json"),
)
def subscriptions(ctx: Context) -> int:
    """``flattr subscriptions``."""
    with open_v2(ctx.settings, "flattr subscriptions") as client:
        found = client.subscriptions()
    if ctx.json:
        print_json(found, ctx.out)
    elif found:
        rows = [
            (s.thing.id, s.thing.title, s.created.isoformat(), "paused" if s.paused else "active")
            for s in found
        ]
        print_table(("THING", "TITLE", "CREATED", "STATE"), rows, ctx.out)
    else:
        print("No subscriptions.", file=ctx.out)
    return 0


@command(
    "subscribe",
    "subscribe to a thing (API v2; needs the flattr scope)",
    "Subscribe to a thing: it is flattred again every month until you unsubscribe.",
    arguments=lambda p: p.add_argument("id", help="the thing's id"),
    scope="flattr",
    examples=("flattr subscribe 42",),
)
def subscribe(ctx: Context) -> int:
    """``flattr subscribe ID``."""
    with open_v2(ctx.settings, "flattr subscribe") as client:
        client.subscribe(ctx.args.id)
    if ctx.json:
        print_json({"subscribed": int(ctx.args.id)}, ctx.out)
    else:
        print(f"Subscribed to thing {ctx.args.id}.", file=ctx.out)
    return 0


@command(
    "unsubscribe",
    "end a subscription (API v2; needs the flattr scope)",
    "End your subscription to a thing.",
    arguments=lambda p: p.add_argument("id", help="the thing's id"),
    scope="flattr",
    examples=("flattr unsubscribe 42",),
)
def unsubscribe(ctx: Context) -> int:
    """``flattr unsubscribe ID``."""
    with open_v2(ctx.settings, "flattr unsubscribe") as client:
        client.unsubscribe(ctx.args.id)
    if ctx.json:
        print_json({"unsubscribed": int(ctx.args.id)}, ctx.out)
    else:
        print(f"Unsubscribed from thing {ctx.args.id}.", file=ctx.out)
    return 0


@command(
    "rate-limit",
    "show how many API v2 calls are left this hour",
    "Show the token's API v2 rate limit: calls allowed, left, and when it resets "
    "(asking is not counted).",
    examples=("flattr rate-limit", "flattr rate-limit --json"),
)
def rate_limit(ctx: Context) -> int:
    """``flattr rate-limit``."""
    with open_v2(ctx.settings, "flattr rate-limit") as client:
        state = client.rate_limit()
    if ctx.json:
        print_json(state, ctx.out)
    else:
        print_fields(
            [
                ("limit", state.limit),
                ("remaining", state.remaining),
                ("used", state.current),
                ("resets", state.reset.isoformat()),
            ],
            ctx.out,
        )
    return 0
