"""The commands that call the REST API with the profile's stored token."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TextIO

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

__all__ = ["COMMANDS", "Context", "open_client"]


@dataclass
class Context:
    """What a command gets: its options, the settings and the output streams."""

    args: argparse.Namespace
    settings: Settings
    out: TextIO
    err: TextIO

    @property
    def json(self) -> bool:
        """Whether ``--json`` was given."""
        return bool(getattr(self.args, "json", False))


@contextmanager
def open_client(settings: Settings) -> Iterator[FlattrClient]:
    """A client for the profile's stored token, closed afterwards."""
    _, record = settings.load_token()
    key, secret = settings.consumer(record)
    base_url = settings.base_url(record)
    with FlattrClient(
        key, secret, record.token, base_url=base_url, ca_certs=settings.ca_certs
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


def thing_show(ctx: Context) -> int:
    """``flattr thing show ID``."""
    with open_client(ctx.settings) as client:
        thing = client.thing(ctx.args.id)
    if ctx.json:
        print_json(thing, ctx.out)
    else:
        print_fields(thing_fields(thing), ctx.out)
    return 0


def thing_list(ctx: Context) -> int:
    """``flattr thing list [--user-id N]``."""
    with open_client(ctx.settings) as client:
        things = client.things(ctx.args.user_id)
    return _things(ctx, things)


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


def thing_search(ctx: Context) -> int:
    """``flattr thing search QUERY``."""
    with open_client(ctx.settings) as client:
        things = client.search(" ".join(ctx.args.query))
    return _things(ctx, things)


def _browse_user(value: str) -> int | str:
    return int(value) if value.isdigit() else value


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


def categories(ctx: Context) -> int:
    """``flattr categories``."""
    return _catalogue(ctx, FlattrClient.categories)


def languages(ctx: Context) -> int:
    """``flattr languages``."""
    return _catalogue(ctx, FlattrClient.languages)


#: Handler and the scope it needs (for error hints), by command name.
COMMANDS: dict[str, tuple[Callable[[Context], int], str | None]] = {
    "whoami": (whoami, None),
    "user": (user, None),
    "thing show": (thing_show, None),
    "thing list": (thing_list, None),
    "thing register": (thing_register, "publish"),
    "thing search": (thing_search, None),
    "thing browse": (thing_browse, None),
    "thing find-url": (thing_find_url, None),
    "click": (click, "click"),
    "categories": (categories, None),
    "languages": (languages, None),
}
