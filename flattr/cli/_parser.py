"""The argument parsers of the ``flattr`` command, built from the registry.

Every command's parser comes from its :class:`~flattr.cli._registry.Command`
declaration. The common options are explained once, in ``flattr --help``;
each command's own ``--help`` names them in one line and ends with examples.
"""

from __future__ import annotations

import argparse
import importlib
import textwrap

from flattr._version import __version__

from ._registry import COMMANDS, GROUPS, Command

__all__ = ["COMMAND_MODULES", "build_parser", "positive_float"]

#: The modules that declare commands, in the order of ``flattr --help``.
COMMAND_MODULES = (
    "flattr.cli._login",
    "flattr.cli._commands",
    "flattr.cli._v2commands",
    "flattr.cli._feed",
    "flattr.cli._feedlinks",
    "flattr.cli._sandbox",
    "flattr.cli._demo",
    "flattr.cli._completion",
)

_DESCRIPTION = (
    "Use Flattr's REST APIs (0.0.1 and v2) from a shell: log in once, then call them. "
    "Each profile remembers which API its login is for (flattr login --api v2)."
)
_EPILOG = (
    "Settings come from options, then FLATTR_* environment variables, then the profile's "
    "table in config.toml in the config directory (FLATTR_CONFIG_DIR overrides where that "
    "is). Exit status: 0 success, 1 failure, 2 usage error."
)


def positive_float(text: str) -> float:
    """An ``argparse`` type: a number above 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not value > 0:
        raise argparse.ArgumentTypeError("must be more than 0")
    return value


class _Formatter(argparse.HelpFormatter):
    """Wraps paragraphs as usual, but keeps indented lines (examples) as they are."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        blocks = []
        for block in text.split("\n\n"):
            if block.startswith("  "):
                blocks.append(textwrap.indent(block, indent))
            else:
                blocks.append(super()._fill_text(block, width, indent))
        return "\n\n".join(blocks)


#: The common options: (flags, metavar or None for a switch, help, keyword arguments).
_COMMON: tuple[tuple[str, str | None, str, dict[str, object]], ...] = (
    (
        "--profile",
        "NAME",
        "which stored login to use (default: $FLATTR_PROFILE, else 'default')",
        {},
    ),
    (
        "--base-url",
        "URL",
        "the server root, e.g. a sandbox's http://127.0.0.1:PORT (default: $FLATTR_BASE_URL, "
        "config base_url, the token's server, else https://api.flattr.com)",
        {},
    ),
    (
        "--consumer-key",
        "KEY",
        "the application's consumer key (default: $FLATTR_CONSUMER_KEY, config "
        "consumer_key, else the key the token was issued to)",
        {},
    ),
    (
        "--consumer-secret",
        "SECRET",
        "the application's consumer secret (default: $FLATTR_CONSUMER_SECRET, config "
        "consumer_secret); other users can see options in the process list, so prefer the "
        "environment variable",
        {},
    ),
    (
        "--client-id",
        "ID",
        "the API v2 application's OAuth 2 client id (default: $FLATTR_CLIENT_ID, config client_id)",
        {},
    ),
    (
        "--client-secret",
        "SECRET",
        "the API v2 application's client secret (default: $FLATTR_CLIENT_SECRET, config "
        "client_secret); prefer the environment variable, as for --consumer-secret",
        {},
    ),
    (
        "--auth-url",
        "URL",
        "where API v2's OAuth pages are (default: $FLATTR_AUTH_URL, config auth_url, else "
        "https://flattr.com for the real API host and --base-url for any other server)",
        {},
    ),
    (
        "--token-store",
        None,
        "where tokens are kept: private JSON files in the config directory, or the system "
        "keyring with the keyring extra (default: $FLATTR_TOKEN_STORE, config token_store, "
        "else file)",
        {"choices": ("file", "keyring")},
    ),
    (
        "--ca-certs",
        "PEM",
        "a CA bundle to trust for the server (default: $FLATTR_CA_CERTS, config ca_certs)",
        {},
    ),
    (
        "--timeout",
        "SECONDS",
        "how long to wait for the server: to connect, for each read, and (four times it) "
        "for a whole call (default: $FLATTR_TIMEOUT, config timeout, else 30)",
        {"type": positive_float},
    ),
    ("--json", None, "print JSON for scripts instead of tables", {"action": "store_true"}),
    (
        "--debug",
        None,
        "show tracebacks and DEBUG logs on stderr (they never contain secrets)",
        {"action": "store_true"},
    ),
)


def _common_options(*, explained: bool) -> argparse.ArgumentParser:
    """The options every API command takes, before or after the command name."""
    common = argparse.ArgumentParser(add_help=False, argument_default=argparse.SUPPRESS)
    group = common.add_argument_group("common options")
    for flag, metavar, help_text, extra in _COMMON:
        options: dict[str, object] = dict(extra)
        if metavar is not None:
            options["metavar"] = metavar
        options["help"] = help_text if explained else argparse.SUPPRESS
        group.add_argument(flag, **options)  # type: ignore[arg-type]
    return common


def _common_line() -> str:
    names = ", ".join(flag for flag, *_ in _COMMON)
    return f"Common options ({names}): see flattr --help."


def _epilog(cmd: Command) -> str | None:
    parts = [_common_line()] if cmd.common else []
    if cmd.examples:
        parts.append("examples:\n" + "\n".join(f"  {line}" for line in cmd.examples))
    return "\n\n".join(parts) or None


def _load_commands() -> None:
    for module in COMMAND_MODULES:
        importlib.import_module(module)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``flattr`` command, with a help text for every option.

    :returns: the parser; the documentation builds the CLI reference from it.
    """
    _load_commands()
    hidden_common = _common_options(explained=False)
    parser = argparse.ArgumentParser(
        prog="flattr",
        description=_DESCRIPTION,
        epilog=_EPILOG,
        parents=[_common_options(explained=True)],
        argument_default=argparse.SUPPRESS,
        formatter_class=_Formatter,
    )
    parser.add_argument("--version", action="version", version=f"flattr {__version__}")
    top = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands")
    levels: dict[str, argparse._SubParsersAction[argparse.ArgumentParser]] = {"": top}
    for name, cmd in COMMANDS.items():
        parent, _, word = name.rpartition(" ")
        if parent not in levels:
            info = GROUPS[parent]
            group_parser = top.add_parser(
                info.name,
                help=info.summary,
                description=info.description,
                argument_default=argparse.SUPPRESS,
                formatter_class=_Formatter,
            )
            group_parser.set_defaults(command_name=None, help_parser=group_parser)
            levels[parent] = group_parser.add_subparsers(
                dest=f"{parent}_command", metavar="SUBCOMMAND", title="subcommands"
            )
        sub = levels[parent].add_parser(
            word,
            help=cmd.summary,
            description=cmd.description,
            epilog=_epilog(cmd),
            parents=[hidden_common] if cmd.common else [],
            argument_default=argparse.SUPPRESS,
            formatter_class=_Formatter,
        )
        if cmd.arguments is not None:
            cmd.arguments(sub)
        sub.set_defaults(command_name=name)
    return parser
