"""The commands that call the REST API with the profile's stored token."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

from flattr.client import FlattrClient
from flattr.models import Category, Language, Thing

from ._config import Settings
from ._errors import EXIT_USAGE, CLIError
from ._output import (
    THING_HEADERS,
    catalogue_rows,
    print_fields,
    print_json,
    print_table,
    thing_fields,
    thing_rows,
    user_fields,
)
from ._registry import Context, command, group

__all__ = ["open_client"]


@contextmanager
def open_client(settings: Settings) -> Iterator[FlattrClient]:
    """A client for the profile's stored token, closed afterwards."""
    _, record = settings.load_token()
    key, secret = settings.consumer(record)
    base_url = settings.base_url(record)
    with FlattrClient(
        key,
        secret,
        record.token,
        base_url=base_url,
        ca_certs=settings.ca_certs,
        timeout=settings.timeout,
    ) as client:
        yield client


def _things(ctx: Context, things: tuple[Thing, ...]) -> int:
    if ctx.json:
        print_json(things, ctx.out)
    elif things:
        print_table(THING_HEADERS, thing_rows(things), ctx.out)
    else:
        print("No things.", file=ctx.out)
    return 0


@command(
    "whoami",
    "show the user the stored token belongs to",
    "Call user/me with the profile's token and show the user, the server and the scopes.",
    examples=("flattr whoami", "flattr whoami --profile work --json"),
)
def whoami(ctx: Context) -> int:
    """``flattr whoami``: the token's user, and where the token came from."""
    _, record = ctx.settings.load_token()
    with open_client(ctx.settings) as client:
        me = client.me()
    if ctx.json:
        print_json(
            {
                "profile": ctx.settings.profile,
                "base_url": record.base_url,
                "scopes": list(record.scopes),
                "user": me,
            },
            ctx.out,
        )
    else:
        print_fields(
            [
                *user_fields(me),
                ("profile", ctx.settings.profile),
                ("server", record.base_url),
                ("scopes", ",".join(record.scopes)),
            ],
            ctx.out,
        )
    return 0


def _user_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", nargs="?", default=None, help="the user name")
    parser.add_argument(
        "--id", type=int, default=None, metavar="ID", help="the numeric user id instead of a name"
    )


@command(
    "user",
    "show a user by name or id",
    "Look up a Flattr user.",
    arguments=_user_arguments,
    examples=("flattr user alice", "flattr user --id 42 --json"),
)
def user(ctx: Context) -> int:
    """``flattr user NAME`` or ``flattr user --id ID``."""
    if (ctx.args.name is None) == (ctx.args.id is None):
        raise CLIError("give a user name or --id ID (one of the two)", EXIT_USAGE)
    with open_client(ctx.settings) as client:
        found = (
            client.user(id=ctx.args.id)
            if ctx.args.id is not None
            else client.user(name=ctx.args.name)
        )
    if ctx.json:
        print_json(found, ctx.out)
    else:
        print_fields(user_fields(found), ctx.out)
    return 0


group(
    "thing",
    "show, list, register, search and browse things",
    "Commands about things (content that can be flattred).",
)


@command(
    "thing show",
    "show one thing",
    "Show one thing by its id.",
    arguments=lambda p: p.add_argument("id", help="the thing's 32-hex id (or its numeric int_id)"),
    examples=("flattr thing show 6c3f3f2d3bb1422ec1f156d154374a9e",),
)
def thing_show(ctx: Context) -> int:
    """``flattr thing show ID``."""
    with open_client(ctx.settings) as client:
        thing = client.thing(ctx.args.id)
    if ctx.json:
        print_json(thing, ctx.out)
    else:
        print_fields(thing_fields(thing), ctx.out)
    return 0


@command(
    "thing list",
    "list a user's things",
    "List the things a user owns (default: you).",
    arguments=lambda p: p.add_argument(
        "--user-id", type=int, default=None, metavar="ID", help="whose things (default: yours)"
    ),
    examples=("flattr thing list", "flattr thing list --user-id 42 --json"),
)
def thing_list(ctx: Context) -> int:
    """``flattr thing list [--user-id N]``."""
    with open_client(ctx.settings) as client:
        things = client.things(ctx.args.user_id)
    return _things(ctx, things)


def _register_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--url", required=True, help="the content's absolute http(s) URL")
    parser.add_argument("--title", required=True, help="5 to 100 characters")
    parser.add_argument(
        "--description", required=True, help="5 to 1000 characters (the API calls it story)"
    )
    parser.add_argument(
        "--category",
        required=True,
        help="text, images, video, audio, software or rest (see `flattr categories`)",
    )
    parser.add_argument(
        "--language", required=True, help="a language id such as en_GB (see `flattr languages`)"
    )
    parser.add_argument(
        "--tag",
        action="append",
        default=None,
        metavar="TAGS",
        help="tags, comma-separated or repeated",
    )
    parser.add_argument(
        "--hidden", action="store_true", default=False, help="hide the thing from public listings"
    )


@command(
    "thing register",
    "register a new thing (needs the publish scope)",
    "Register a thing owned by you. Every field is checked before anything is sent; the "
    "request is sent once and never retried.",
    arguments=_register_arguments,
    scope="publish",
    examples=(
        "flattr thing register --url https://blog.example.org/hello --title 'Hello, Flattr' \\",
        "    --description 'My first flattrable post.' --category text --language en_GB",
        "flattr thing register ... --tag birds,spring --hidden --json",
    ),
)
def thing_register(ctx: Context) -> int:
    """``flattr thing register --url ... --title ...``."""
    a = ctx.args
    tags = [t for value in a.tag or () for t in value.split(",") if t.strip()]
    with open_client(ctx.settings) as client:
        thing = client.register_thing(
            url=a.url,
            title=a.title,
            category=a.category,
            description=a.description,
            language=a.language,
            tags=tags,
            hidden=a.hidden,
        )
    if ctx.json:
        print_json(thing, ctx.out)
    else:
        print(f"Registered {thing.title!r}.", file=ctx.out)
        print_fields(thing_fields(thing), ctx.out)
    return 0


@command(
    "thing search",
    "search public things",
    "Free-text search over things.",
    arguments=lambda p: p.add_argument("query", nargs="+", help="the words to search for"),
    examples=("flattr thing search robins", "flattr thing search spring birds --json"),
)
def thing_search(ctx: Context) -> int:
    """``flattr thing search QUERY``."""
    with open_client(ctx.settings) as client:
        things = client.search(" ".join(ctx.args.query))
    return _things(ctx, things)


def _browse_user(value: str) -> int | str:
    return int(value) if value.isdigit() else value


def _browse_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--query", default=None, help="free text")
    for flag, what in (
        ("--tag", "a tag"),
        ("--category", "a category id"),
        ("--language", "a language id"),
        ("--user", "a user name or numeric id"),
    ):
        parser.add_argument(flag, action="append", default=None, help=f"{what}; repeatable")


@command(
    "thing browse",
    "browse public things by criteria",
    "List public things matching every criterion given (any of the values of one).",
    arguments=_browse_arguments,
    examples=(
        "flattr thing browse --tag birds",
        "flattr thing browse --category audio --user alice",
    ),
)
def thing_browse(ctx: Context) -> int:
    """``flattr thing browse [--query Q] [--tag T] [--category C] [--language L] [--user U]``."""
    a = ctx.args
    if not (a.query or a.tag or a.category or a.language or a.user):
        raise CLIError(
            "give at least one of --query, --tag, --category, --language, --user", EXIT_USAGE
        )
    with open_client(ctx.settings) as client:
        things = client.browse(
            query=a.query,
            tags=a.tag or (),
            categories=a.category or (),
            languages=a.language or (),
            users=[_browse_user(u) for u in a.user or ()],
        )
    return _things(ctx, things)


@command(
    "thing find-url",
    "show the thing registered for a URL",
    "Look up the thing registered for a URL; exit status 1 when there is none.",
    arguments=lambda p: p.add_argument("url", help="the content's URL"),
    examples=("flattr thing find-url https://blog.example.org/hello",),
)
def thing_find_url(ctx: Context) -> int:
    """``flattr thing find-url URL``: exit status 1 when the URL is not registered."""
    with open_client(ctx.settings) as client:
        thing = client.thing_by_url(ctx.args.url)
    if ctx.json:
        print_json(thing, ctx.out)
    elif thing is None:
        print("Not registered.", file=ctx.out)
    else:
        print_fields(thing_fields(thing), ctx.out)
    return 0 if thing is not None else 1


@command(
    "click",
    "flattr a thing (needs the click scope)",
    "Flattr a thing as you. Sent once, never retried.",
    arguments=lambda p: p.add_argument("id", help="the thing's id"),
    scope="click",
    examples=("flattr click 6c3f3f2d3bb1422ec1f156d154374a9e",),
)
def click(ctx: Context) -> int:
    """``flattr click ID``: flattr a thing."""
    with open_client(ctx.settings) as client:
        client.click(ctx.args.id)
    if ctx.json:
        print_json({"clicked": ctx.args.id}, ctx.out)
    else:
        print(f"Flattred {ctx.args.id}.", file=ctx.out)
    return 0


def _catalogue(ctx: Context, fetch: Callable[[FlattrClient], Sequence[Category | Language]]) -> int:
    with open_client(ctx.settings) as client:
        items = fetch(client)
    if ctx.json:
        print_json(items, ctx.out)
    else:
        print_table(("ID", "NAME"), catalogue_rows(items), ctx.out)
    return 0


@command(
    "categories",
    "list thing categories",
    "List the categories things use.",
    examples=("flattr categories", "flattr categories --json"),
)
def categories(ctx: Context) -> int:
    """``flattr categories``."""
    return _catalogue(ctx, FlattrClient.categories)


@command(
    "languages",
    "list thing languages",
    "List the languages things use.",
    examples=("flattr languages", "flattr languages --json"),
)
def languages(ctx: Context) -> int:
    """``flattr languages``."""
    return _catalogue(ctx, FlattrClient.languages)
