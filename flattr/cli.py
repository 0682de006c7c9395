"""The ``flattr`` command line (``python -m flattr`` too).

``main(argv)`` returns an exit status instead of exiting, so tests call it
in-process. The library never imports this module.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from flattr._version import __version__

__all__ = ["build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``flattr`` command."""
    parser = argparse.ArgumentParser(
        prog="flattr",
        description="Use Flattr's REST API 0.0.1 from a shell.",
    )
    parser.add_argument("--version", action="version", version=f"flattr {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.add_parser(
        "demo",
        help="walk through the OAuth flow and first calls against an embedded fake server",
        description="Start a fake Flattr server on 127.0.0.1 and walk the whole flow.",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``flattr`` command; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "demo":
        from flattr._demo import run_demo

        return run_demo(sys.stdout)
    parser.print_help(sys.stderr)
    return 2
