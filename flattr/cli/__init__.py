"""The ``flattr`` command line (``python -m flattr`` too).

``main(argv)`` returns an exit status instead of exiting, so tests call it
in-process. The library never imports this package.

Settings are read from, in this order: options, environment variables
(``FLATTR_CONSUMER_KEY``, ``FLATTR_CONSUMER_SECRET``, ``FLATTR_BASE_URL``,
``FLATTR_PROFILE``, ``FLATTR_TOKEN_STORE``, ``FLATTR_CA_CERTS``), the
profile's table in ``config.toml`` in the config directory
(``FLATTR_CONFIG_DIR``, else the platform's user config directory), and
for commands that use a token, the stored token itself.

Exit statuses: 0 success, 1 failure, 2 usage error, 130 interrupted.
"""

from __future__ import annotations

import argparse
import io
import logging
import os
import sys
import traceback
from collections.abc import Sequence
from typing import TextIO

from flattr._version import __version__
from flattr.errors import FlattrError

from ._errors import EXIT_FAILURE, EXIT_INTERRUPTED, EXIT_USAGE, CLIError, describe

__all__ = ["build_parser", "main"]

_EPILOG = (
    "Settings come from options, then FLATTR_* environment variables, then the profile's "
    "table in config.toml in the config directory (FLATTR_CONFIG_DIR overrides where that "
    "is). Exit status: 0 success, 1 failure, 2 usage error."
)


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not value > 0:
        raise argparse.ArgumentTypeError("must be more than 0")
    return value


def _common_options() -> argparse.ArgumentParser:
    """Options every API command takes, before or after the command name."""
    common = argparse.ArgumentParser(add_help=False, argument_default=argparse.SUPPRESS)
    group = common.add_argument_group("common options")
    group.add_argument(
        "--profile",
        metavar="NAME",
        help="which stored login to use (default: $FLATTR_PROFILE, else 'default')",
    )
    group.add_argument(
        "--base-url",
        metavar="URL",
        help="the server root, e.g. a sandbox's http://127.0.0.1:PORT "
        "(default: $FLATTR_BASE_URL, config base_url, the token's server, "
        "else https://api.flattr.com)",
    )
    group.add_argument(
        "--consumer-key",
        metavar="KEY",
        help="the application's consumer key (default: $FLATTR_CONSUMER_KEY, "
        "config consumer_key, else the key the token was issued to)",
    )
    group.add_argument(
        "--consumer-secret",
        metavar="SECRET",
        help="the application's consumer secret (default: $FLATTR_CONSUMER_SECRET, "
        "config consumer_secret); other users can see options in the process list, so "
        "prefer the environment variable",
    )
    group.add_argument(
        "--token-store",
        choices=("file", "keyring"),
        help="where tokens are kept: private JSON files in the config directory, or the "
        "system keyring with the keyring extra (default: $FLATTR_TOKEN_STORE, config "
        "token_store, else file)",
    )
    group.add_argument(
        "--ca-certs",
        metavar="PEM",
        help="a CA bundle to trust for the server (default: $FLATTR_CA_CERTS, config ca_certs)",
    )
    group.add_argument(
        "--json", action="store_true", help="print JSON for scripts instead of tables"
    )
    group.add_argument(
        "--debug",
        action="store_true",
        help="show tracebacks and DEBUG logs on stderr (they never contain secrets)",
    )
    return common


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``flattr`` command, with a help text for every option.

    :returns: the parser; the documentation builds the CLI reference from it.
    """
    common = _common_options()
    parser = argparse.ArgumentParser(
        prog="flattr",
        description="Use Flattr's REST API 0.0.1 from a shell: log in once, then call it.",
        epilog=_EPILOG,
        parents=[common],
        argument_default=argparse.SUPPRESS,
    )
    parser.add_argument("--version", action="version", version=f"flattr {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands")

    def command(
        subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
        name: str,
        help_text: str,
        description: str,
        *,
        with_common: bool = True,
    ) -> argparse.ArgumentParser:
        return subparsers.add_parser(
            name,
            help=help_text,
            description=description,
            parents=[common] if with_common else [],
            argument_default=argparse.SUPPRESS,
        )

    # -- login / logout -------------------------------------------------------
    login = command(
        commands,
        "login",
        "authorize this command for your Flattr account and store the token",
        "Run the OAuth flow: open Flattr's consent page in the browser, catch the answer on "
        "a loopback address (127.0.0.1, a free port) and store the access token under the "
        "profile. With --oob, print the page's address and read the code it shows instead.",
    )
    login.add_argument(
        "--scope",
        action="append",
        metavar="SCOPES",
        default=None,
        help="scopes to ask for, comma-separated or repeated: read, click, publish, "
        "extendedread (default: read)",
    )
    login.add_argument(
        "--oob",
        action="store_true",
        default=False,
        help="PIN flow: print the consent page's address and read the code it shows "
        "(for a browser on another machine)",
    )
    login.add_argument(
        "--no-browser",
        action="store_true",
        default=False,
        help="do not open a browser; print the address to open",
    )
    login.add_argument(
        "--timeout",
        type=_positive_float,
        default=300.0,
        metavar="SECONDS",
        help="how long to wait for the browser to come back (default: 300)",
    )
    login.set_defaults(run="login")

    logout = command(
        commands,
        "logout",
        "forget the stored token of a profile",
        "Remove the profile's stored token (even a damaged one). The token stays valid on "
        "the server until you revoke the application in your Flattr settings.",
    )
    logout.set_defaults(run="logout")

    # -- users ----------------------------------------------------------------
    whoami = command(
        commands,
        "whoami",
        "show the user the stored token belongs to",
        "Call user/me with the profile's token and show the user, the server and the scopes.",
    )
    whoami.set_defaults(run="whoami")

    user = command(commands, "user", "show a user by name or id", "Look up a Flattr user.")
    user.add_argument("name", nargs="?", default=None, help="the user name")
    user.add_argument(
        "--id", type=int, default=None, metavar="ID", help="the numeric user id instead of a name"
    )
    user.set_defaults(run="user")

    # -- things ---------------------------------------------------------------
    thing = command(
        commands,
        "thing",
        "show, list, register, search and browse things",
        "Commands about things (content that can be flattred).",
        with_common=False,
    )
    things = thing.add_subparsers(dest="thing_command", metavar="SUBCOMMAND", title="subcommands")
    thing.set_defaults(run="help", help_parser=thing)

    show = command(things, "show", "show one thing", "Show one thing by its id.")
    show.add_argument("id", help="the thing's 32-hex id (or its numeric int_id)")
    show.set_defaults(run="thing show")

    listing = command(
        things, "list", "list a user's things", "List the things a user owns (default: you)."
    )
    listing.add_argument(
        "--user-id", type=int, default=None, metavar="ID", help="whose things (default: yours)"
    )
    listing.set_defaults(run="thing list")

    register = command(
        things,
        "register",
        "register a new thing (needs the publish scope)",
        "Register a thing owned by you. Every field is checked before anything is sent; the "
        "request is sent once and never retried.",
    )
    register.add_argument("--url", required=True, help="the content's absolute http(s) URL")
    register.add_argument("--title", required=True, help="5 to 100 characters")
    register.add_argument(
        "--description", required=True, help="5 to 1000 characters (the API calls it story)"
    )
    register.add_argument(
        "--category",
        required=True,
        help="text, images, video, audio, software or rest (see `flattr categories`)",
    )
    register.add_argument(
        "--language", required=True, help="a language id such as en_GB (see `flattr languages`)"
    )
    register.add_argument(
        "--tag",
        action="append",
        default=None,
        metavar="TAGS",
        help="tags, comma-separated or repeated",
    )
    register.add_argument(
        "--hidden",
        action="store_true",
        default=False,
        help="hide the thing from public listings",
    )
    register.set_defaults(run="thing register")

    search = command(things, "search", "search public things", "Free-text search over things.")
    search.add_argument("query", nargs="+", help="the words to search for")
    search.set_defaults(run="thing search")

    browse = command(
        things,
        "browse",
        "browse public things by criteria",
        "List public things matching every criterion given (any of the values of one).",
    )
    browse.add_argument("--query", default=None, help="free text")
    for flag, what in (
        ("--tag", "a tag"),
        ("--category", "a category id"),
        ("--language", "a language id"),
        ("--user", "a user name or numeric id"),
    ):
        browse.add_argument(flag, action="append", default=None, help=f"{what}; repeatable")
    browse.set_defaults(run="thing browse")

    find_url = command(
        things,
        "find-url",
        "show the thing registered for a URL",
        "Look up the thing registered for a URL; exit status 1 when there is none.",
    )
    find_url.add_argument("url", help="the content's URL")
    find_url.set_defaults(run="thing find-url")

    # -- clicks and catalogue -------------------------------------------------
    click = command(
        commands,
        "click",
        "flattr a thing (needs the click scope)",
        "Flattr a thing as you. Sent once, never retried.",
    )
    click.add_argument("id", help="the thing's id")
    click.set_defaults(run="click")

    command(
        commands, "categories", "list thing categories", "List the categories things use."
    ).set_defaults(run="categories")
    command(
        commands, "languages", "list thing languages", "List the languages things use."
    ).set_defaults(run="languages")

    # -- feeds ----------------------------------------------------------------
    from ._feed import add_feed_parser

    add_feed_parser(commands, command)

    # -- sandbox and demo -----------------------------------------------------
    sandbox = command(
        commands,
        "sandbox",
        "run a fake Flattr server on 127.0.0.1 until Ctrl-C",
        "Start FakeFlattr (with a few users and things) and print a consumer key and secret "
        "for it. Point other commands at it with --base-url or FLATTR_BASE_URL.",
        with_common=False,
    )
    sandbox.add_argument(
        "--port",
        type=int,
        default=8710,
        help="the port to listen on (default: 8710; 0 picks a free one)",
    )
    sandbox.add_argument(
        "--consumer-key",
        dest="sandbox_consumer_key",
        default=None,
        metavar="KEY",
        help="register this consumer key (default: a random one)",
    )
    sandbox.add_argument(
        "--consumer-secret",
        dest="sandbox_consumer_secret",
        default=None,
        metavar="SECRET",
        help="register this consumer secret (default: a random one)",
    )
    sandbox.add_argument(
        "--empty",
        action="store_true",
        default=False,
        help="start without the example users and things",
    )
    sandbox.add_argument(
        "--state",
        default=None,
        metavar="FILE",
        help="keep users, things, clicks, consumers and tokens in this SQLite file, so a "
        "restarted sandbox carries on where it stopped (created when missing; default: "
        "forget everything at Ctrl-C)",
    )
    sandbox.add_argument("--debug", action="store_true", help="show the server's DEBUG logs")
    sandbox.set_defaults(run="sandbox")

    demo = command(
        commands,
        "demo",
        "walk through the OAuth flow and first calls against an embedded fake server",
        "Start a fake Flattr server on 127.0.0.1 and walk the whole flow.",
        with_common=False,
    )
    demo.set_defaults(run="demo")
    return parser


def _exit_status(code: object) -> int:
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    return EXIT_USAGE


class _DebugLogging:
    """DEBUG logs of the ``flattr`` loggers on stderr, for one run."""

    def __init__(self, stream: TextIO) -> None:
        self.logger = logging.getLogger("flattr")
        self.handler = logging.StreamHandler(stream)
        self.handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        self.level = self.logger.level

    def __enter__(self) -> None:
        self.logger.addHandler(self.handler)
        self.logger.setLevel(logging.DEBUG)

    def __exit__(self, *exc_info: object) -> None:
        self.logger.removeHandler(self.handler)
        self.logger.setLevel(self.level)


def _dispatch(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    run = getattr(args, "run", None)
    out, err = sys.stdout, sys.stderr
    if run is None:
        parser.print_help(err)
        return EXIT_USAGE
    if run == "help":
        args.help_parser.print_help(err)
        return EXIT_USAGE
    if run == "demo":
        from flattr._demo import run_demo

        return run_demo(out)
    if run == "sandbox":
        from ._sandbox import run_sandbox

        return run_sandbox(args, out)

    from ._config import Settings

    settings = Settings(args, stderr=err)
    args.profile_name = settings.profile
    if run == "login":
        from ._login import run_login

        return run_login(args, settings, out, err, sys.stdin)
    if run == "logout":
        from ._login import run_logout

        return run_logout(args, settings, out)
    if run == "feed publish":
        from ._feed import run_feed_publish

        return run_feed_publish(args, settings, out, err)
    from ._commands import COMMANDS, Context

    handler, _ = COMMANDS[run]
    return handler(Context(args, settings, out, err))


def _silence_stdout() -> None:
    """After the reader of stdout went away (``flattr languages | head -1``), write nowhere."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, io.UnsupportedOperation):
        pass


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``flattr`` command.

    :param argv: the arguments after the program name (``sys.argv[1:]`` by default).
    :returns: the exit status: 0 success, 1 failure, 2 usage error, 130 interrupted.
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version and usage errors
        return _exit_status(exc.code)
    debug = bool(getattr(args, "debug", False))
    run = getattr(args, "run", None)
    err = sys.stderr
    logging_context = _DebugLogging(err) if debug else None
    try:
        if logging_context is not None:
            logging_context.__enter__()
        status = _dispatch(parser, args)
        sys.stdout.flush()
        return status
    except BrokenPipeError:
        _silence_stdout()
        return EXIT_FAILURE
    except KeyboardInterrupt:
        print("flattr: interrupted", file=err)
        return EXIT_INTERRUPTED
    except CLIError as exc:
        if debug:
            traceback.print_exc(file=err)
        print(f"flattr: error: {' '.join(str(exc).split())}", file=err)
        return exc.status
    except FlattrError as exc:
        if debug:
            traceback.print_exc(file=err)
        from ._commands import COMMANDS

        scope = COMMANDS[run][1] if run in COMMANDS else None
        if run == "feed publish":
            scope = "publish"
        message, status = describe(
            exc, profile=getattr(args, "profile_name", "default"), scope=scope
        )
        print(f"flattr: error: {message}", file=err)
        return status
    finally:
        if logging_context is not None:
            logging_context.__exit__(None, None, None)
