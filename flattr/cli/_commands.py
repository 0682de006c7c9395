"""The commands that call the REST API with the profile's stored token.

Each works with either API generation where the resource exists in it: the
profile's stored token says which one (:mod:`flattr.cli._clients`).
"""

from __future__ import annotations

import argparse
import itertools
from collections.abc import Callable, Sequence

from flattr import v2
from flattr.models import Category, Language, Thing
from flattr.tokenstore import API_V1

from ._clients import AnyClient, open_any, open_client, require_api
from ._errors import EXIT_USAGE, CLIError
from ._output import (
    THING_HEADERS,
    V2_THING_HEADERS,
    catalogue_rows,
    print_fields,
    print_json,
    print_table,
    thing_fields,
    thing_rows,
    user_fields,
)
from ._registry import Context, command, group

__all__ = ["SEARCH_LIMIT", "open_client", "print_things"]

#: The most things ``thing search`` and ``thing list`` show from API v2's pages.
SEARCH_LIMIT = 100


def print_things(ctx: Context, things: Sequence[Thing | v2.Thing]) -> int:
    """Show things of either API as a table (or JSON); returns the exit status 0."""
    if ctx.json:
        print_json(things, ctx.out)
    elif things:
        headers = V2_THING_HEADERS if isinstance(things[0], v2.Thing) else THING_HEADERS
        print_table(headers, thing_rows(things), ctx.out)
    else:
        print("No things.", file=ctx.out)
    return 0


@command(
    "whoami",
    "show the user the stored token belongs to",
    "Ask who the profile's token belongs to (user/me, or v2's /user) and show the user, "
    "the API, the server and the scopes.",
    examples=("flattr whoami", "flattr whoami --profile work --json"),
)
def whoami(ctx: Context) -> int:
    """``flattr whoami``: the token's user, and where the token came from."""
    _, record = ctx.settings.load_token()
    with open_any(ctx.settings) as client:
        me = client.me()
    if ctx.json:
        print_json(
            {
                "profile": ctx.settings.profile,
                "api": record.api,
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
                ("api", record.api),
                ("server", record.base_url),
                ("scopes", ",".join(record.scopes) or "-"),
            ],
            ctx.out,
        )
    return 0


def _user_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", nargs="?", default=None, help="the user name")
    parser.add_argument(
        "--id",
        type=int,
        default=None,
        metavar="ID",
        help="the numeric user id instead of a name (API 0.0.1 only)",
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
    if ctx.args.id is not None:
        require_api(ctx.settings, API_V1, "flattr user --id", "`flattr user NAME`")
    with open_any(ctx.settings) as client:
        found = (
            client.user(ctx.args.name)
            if isinstance(client, v2.FlattrClient)
            else client.user(id=ctx.args.id)
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
    "show, list, register/create, update, delete, search and browse things",
    "Commands about things (content that can be flattred).",
)


@command(
    "thing show",
    "show one thing",
    "Show one thing by its id.",
    arguments=lambda p: p.add_argument(
        "id", help="the thing's id: 0.0.1's 32-hex id (or numeric int_id), v2's number"
    ),
    examples=("flattr thing show 6c3f3f2d3bb1422ec1f156d154374a9e", "flattr thing show 42"),
)
def thing_show(ctx: Context) -> int:
    """``flattr thing show ID``."""
    with open_any(ctx.settings) as client:
        thing = client.thing(ctx.args.id)
    if ctx.json:
        print_json(thing, ctx.out)
    else:
        print_fields(thing_fields(thing), ctx.out)
    return 0


def _list_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--user-id",
        type=int,
        default=None,
        metavar="ID",
        help="whose things, by numeric id (API 0.0.1; default: yours)",
    )
    parser.add_argument(
        "--user",
        default=None,
        metavar="NAME",
        help=f"whose things, by user name (API v2; default: yours; the newest {SEARCH_LIMIT})",
    )


@command(
    "thing list",
    "list a user's things",
    "List the things a user owns (default: you).",
    arguments=_list_arguments,
    examples=(
        "flattr thing list",
        "flattr thing list --user-id 42 --json",
        "flattr thing list --user alice   # API v2",
    ),
)
def thing_list(ctx: Context) -> int:
    """``flattr thing list [--user-id N | --user NAME]``."""
    a = ctx.args
    with open_any(ctx.settings) as client:
        if isinstance(client, v2.FlattrClient):
            if a.user_id is not None:
                raise CLIError("API v2 names users: use --user NAME instead of --user-id", 2)
            things: Sequence[Thing | v2.Thing] = tuple(
                itertools.islice(client.user_things(a.user), SEARCH_LIMIT)
            )
        else:
            if a.user is not None:
                raise CLIError("API 0.0.1 numbers users: use --user-id ID instead of --user", 2)
            things = client.things(a.user_id)
    return print_things(ctx, things)


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
    require_api(ctx.settings, API_V1, "flattr thing register", "`flattr thing create`")
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
    f"Free-text search over things (on API v2, the first {SEARCH_LIMIT} by relevance).",
    arguments=lambda p: p.add_argument("query", nargs="+", help="the words to search for"),
    examples=("flattr thing search robins", "flattr thing search spring birds --json"),
)
def thing_search(ctx: Context) -> int:
    """``flattr thing search QUERY``."""
    query = " ".join(ctx.args.query)
    with open_any(ctx.settings) as client:
        things: Sequence[Thing | v2.Thing] = (
            tuple(itertools.islice(client.search(query), SEARCH_LIMIT))
            if isinstance(client, v2.FlattrClient)
            else client.search(query)
        )
    return print_things(ctx, things)


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
    "List public things matching every criterion given (any of the values of one). "
    "API 0.0.1 only; on v2, `flattr thing search` searches.",
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
    require_api(ctx.settings, API_V1, "flattr thing browse", "`flattr thing search`")
    with open_client(ctx.settings) as client:
        things = client.browse(
            query=a.query,
            tags=a.tag or (),
            categories=a.category or (),
            languages=a.language or (),
            users=[_browse_user(u) for u in a.user or ()],
        )
    return print_things(ctx, things)


@command(
    "thing find-url",
    "show the thing registered for a URL",
    "Look up the thing registered for a URL; exit status 1 when there is none.",
    arguments=lambda p: p.add_argument("url", help="the content's URL"),
    examples=("flattr thing find-url https://blog.example.org/hello",),
)
def thing_find_url(ctx: Context) -> int:
    """``flattr thing find-url URL``: exit status 1 when the URL is not registered."""
    with open_any(ctx.settings) as client:
        thing = (
            client.lookup(ctx.args.url)
            if isinstance(client, v2.FlattrClient)
            else client.thing_by_url(ctx.args.url)
        )
    if ctx.json:
        print_json(thing, ctx.out)
    elif thing is None:
        print("Not registered.", file=ctx.out)
    else:
        print_fields(thing_fields(thing), ctx.out)
    return 0 if thing is not None else 1


@command(
    "click",
    "flattr a thing (needs the click scope; v2: flattr)",
    "Flattr a thing as you (API 0.0.1's click, v2's flattr). Sent once, never retried.",
    arguments=lambda p: p.add_argument("id", help="the thing's id"),
    scope="click",
    examples=("flattr click 6c3f3f2d3bb1422ec1f156d154374a9e",),
)
def click(ctx: Context) -> int:
    """``flattr click ID``: flattr a thing."""
    with open_any(ctx.settings) as client:
        if isinstance(client, v2.FlattrClient):
            client.flattr(ctx.args.id)
        else:
            client.click(ctx.args.id)
    if ctx.json:
        print_json({"clicked": ctx.args.id}, ctx.out)
    else:
        print(f"Flattred {ctx.args.id}.", file=ctx.out)
    return 0


def _catalogue(ctx: Context, fetch: Callable[[AnyClient], Sequence[Category | Language]]) -> int:
    with open_any(ctx.settings) as client:
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
    return _catalogue(ctx, lambda client: client.categories())


@command(
    "languages",
    "list thing languages",
    "List the languages things use.",
    examples=("flattr languages", "flattr languages --json"),
)
def languages(ctx: Context) -> int:
    """``flattr languages``."""
    return _catalogue(ctx, lambda client: client.languages())
