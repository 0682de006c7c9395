"""The one registry of commands: each declares its parser, handler and needed scope once.

A command module decorates its handler::

    @command(
        "thing show",
        "show one thing",
        "Show one thing by its id.",
        arguments=lambda p: p.add_argument("id", help="the thing's id"),
        examples=("flattr thing show 6c3f3f2d3bb1422ec1f156d154374a9e",),
    )
    def thing_show(ctx: Context) -> int: ...

and :mod:`flattr.cli._parser` builds every parser from :data:`COMMANDS`;
:func:`flattr.cli.main` looks the chosen one up and calls it. A name with a
space (``"thing show"``) is a subcommand of the :func:`group` before it.
"""

from __future__ import annotations

import argparse
import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from ._config import Settings

__all__ = ["COMMANDS", "GROUPS", "Command", "Context", "Group", "command", "group"]


@dataclass
class Context:
    """What a command gets: its options, the output streams, and the settings on demand."""

    args: argparse.Namespace
    out: TextIO
    err: TextIO
    stdin: TextIO

    @functools.cached_property
    def settings(self) -> Settings:
        """The profile's settings (options, environment, config file), read on first use."""
        from ._config import Settings

        return Settings(self.args, stderr=self.err)

    @property
    def json(self) -> bool:
        """Whether ``--json`` was given."""
        return bool(getattr(self.args, "json", False))


Handler = Callable[[Context], int]
Arguments = Callable[[argparse.ArgumentParser], object]


@dataclass(frozen=True, slots=True)
class Command:
    """One command: how it is parsed, what runs it, and what it needs.

    :ivar name: the words that choose it (``"thing register"``).
    :ivar summary: one line for the list of commands.
    :ivar description: the paragraph at the top of its ``--help``.
    :ivar run: the handler; returns the exit status.
    :ivar arguments: adds the command's own arguments to its parser.
    :ivar scope: the scope the command needs (``"publish"``), for advice on a refusal.
    :ivar common: whether it takes the common options (profile, server, output).
    :ivar examples: command lines shown at the end of its ``--help``.
    """

    name: str
    summary: str
    description: str
    run: Handler
    arguments: Arguments | None = None
    scope: str | None = None
    common: bool = True
    examples: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Group:
    """A word that only gathers subcommands (``thing``, ``feed``)."""

    name: str
    summary: str
    description: str


#: Every command, in the order of ``flattr --help``.
COMMANDS: dict[str, Command] = {}
#: Every group of subcommands.
GROUPS: dict[str, Group] = {}


def command(
    name: str,
    summary: str,
    description: str,
    *,
    arguments: Arguments | None = None,
    scope: str | None = None,
    common: bool = True,
    examples: tuple[str, ...] = (),
) -> Callable[[Handler], Handler]:
    """Declare the decorated handler as the command ``name``; see :class:`Command`."""

    def register(run: Handler) -> Handler:
        if name in COMMANDS:
            raise ValueError(f"the command {name!r} is declared twice")
        parent = name.rpartition(" ")[0]
        if parent and parent not in GROUPS:
            raise ValueError(f"declare the group {parent!r} before {name!r}")
        COMMANDS[name] = Command(
            name, summary, description, run, arguments, scope, common, examples
        )
        return run

    return register


def group(name: str, summary: str, description: str) -> None:
    """Declare ``name`` as a group of subcommands (``flattr thing ...``)."""
    GROUPS[name] = Group(name, summary, description)
