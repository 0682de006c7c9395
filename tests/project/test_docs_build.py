"""Fast checks of the documentation sources (CI also runs both Sphinx builds).

The CLI reference is generated from ``flattr.cli.build_parser()`` by the
local extension in ``docs/_ext``; these tests make sure it leaves out no
command and no option, and that every page is in the table of contents.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Iterator

import pytest

from flattr.cli import build_parser
from tests.kit import ROOT

DOCS = ROOT / "docs"


def _commands(
    parser: argparse.ArgumentParser,
) -> Iterator[argparse.ArgumentParser]:
    yield parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in dict.fromkeys(action.choices.values()):
                yield from _commands(sub)


@pytest.fixture(scope="module")
def reference() -> str:
    pytest.importorskip("sphinx", reason="sphinx is in the docs extra")
    sys.path.insert(0, str(DOCS / "_ext"))
    try:
        import cli_reference
    finally:
        sys.path.remove(str(DOCS / "_ext"))
    parser = build_parser()
    anchor = f"cli-{parser.prog}"
    writer = cli_reference._Writer(anchor)
    return "\n".join(writer.describe(parser, 1, anchor, cli_reference._shared_titles(parser)))


def test_every_command_has_a_section(reference: str) -> None:
    for command in _commands(build_parser()):
        assert f"``{command.prog}``" in reference, command.prog


def test_every_option_is_described(reference: str) -> None:
    for command in _commands(build_parser()):
        for action in command._actions:
            if action.help == argparse.SUPPRESS or not action.option_strings:
                continue
            assert action.option_strings[-1] in reference, (command.prog, action.option_strings)


def test_every_page_is_in_the_table_of_contents() -> None:
    index = (DOCS / "index.rst").read_text(encoding="utf-8")
    listed = set(re.findall(r"^   ([\w-]+)$", index, re.M))
    # docs/performance.rst comes from the benchmarks; conf.py lists it once it exists.
    pages = {p.stem for p in DOCS.glob("*.rst")} - {"index", "performance"}
    assert pages <= listed, pages - listed
