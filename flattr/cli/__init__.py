"""The ``flattr`` command line (``python -m flattr`` too).

``main(argv)`` returns an exit status instead of exiting, so tests call it
in-process. The library never imports this package.

Every command is declared once, beside its handler, with
:func:`flattr.cli._registry.command`; :mod:`flattr.cli._parser` builds the
parsers from those declarations and :func:`main` runs the one chosen.

Settings are read from, in this order: options, environment variables
(``FLATTR_CONSUMER_KEY``, ``FLATTR_CONSUMER_SECRET``, ``FLATTR_BASE_URL``,
``FLATTR_PROFILE``, ``FLATTR_TOKEN_STORE``, ``FLATTR_CA_CERTS``,
``FLATTR_TIMEOUT``), the profile's table in ``config.toml`` in the config
directory (``FLATTR_CONFIG_DIR``, else the platform's user config
directory), and for commands that use a token, the stored token itself.

Exit statuses: 0 success, 1 failure, 2 usage error, 130 interrupted.
"""

from __future__ import annotations

import io
import logging
import os
import sys
import traceback
from collections.abc import Sequence
from typing import TextIO

from flattr import _extras
from flattr.errors import FlattrError

from ._completion import autocomplete
from ._errors import EXIT_FAILURE, EXIT_INTERRUPTED, EXIT_USAGE, CLIError, describe_for
from ._parser import build_parser
from ._registry import COMMANDS, Context

__all__ = ["build_parser", "main"]


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
    try:
        _extras.require("cli")
    except _extras.MissingExtraError as exc:
        print(f"flattr: error: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    parser = build_parser()
    autocomplete(parser)  # a shell asking for completions gets them, and the run ends
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version and usage errors
        return _exit_status(exc.code)
    err = sys.stderr
    name = getattr(args, "command_name", None)
    if name is None:  # no command, or a group without its subcommand
        getattr(args, "help_parser", parser).print_help(err)
        return EXIT_USAGE
    cmd = COMMANDS[name]
    ctx = Context(args, sys.stdout, err, sys.stdin)
    debug = bool(getattr(args, "debug", False))
    logging_context = _DebugLogging(err) if debug else None
    try:
        if logging_context is not None:
            logging_context.__enter__()
        status = cmd.run(ctx)
        sys.stdout.flush()
        return status
    except BrokenPipeError:
        _silence_stdout()
        return EXIT_FAILURE
    except KeyboardInterrupt:
        print("flattr: interrupted", file=err)
        return EXIT_INTERRUPTED
    except (CLIError, FlattrError) as exc:
        if debug:
            traceback.print_exc(file=err)
        message, status = describe_for(exc, ctx, cmd)
        print(f"flattr: error: {message}", file=err)
        return status
    finally:
        if logging_context is not None:
            logging_context.__exit__(None, None, None)
