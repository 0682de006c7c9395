"""``.. cli-reference:: module:function``: the CLI reference, generated from argparse.

The directive imports the function, calls it to get the
:class:`argparse.ArgumentParser`, and writes one section per command and
sub-command: its usage line, its description, and its arguments and options
in the parser's own groups, with the help texts exactly as ``--help`` shows
them. Nothing is retyped, so the page cannot drift from the program.

A group that several commands share (the same title and the same options,
as ``parents=`` parsers give) is written out in full once, where it first
appears, and referred to from the other commands.
"""

from __future__ import annotations

import argparse
import importlib
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from docutils import nodes
from docutils.statemachine import StringList
from sphinx.application import Sphinx
from sphinx.util.docutils import SphinxDirective
from sphinx.util.nodes import nested_parse_with_titles
from sphinx.util.typing import ExtensionMetadata

_UNDERLINES = "=-~^\"'`"
#: Options (``--oob``), environment variables (``$FLATTR_X``) and URLs become
#: inline literals, so that docutils neither curls ``--`` into a dash nor
#: links made-up addresses.
_LITERAL = re.compile(r"(?<![\w`$-])(--?[A-Za-z][\w-]*|\$[A-Z_][A-Z0-9_]*|https?://[^\s),;]+)")
_BACKTICKED = re.compile(r"`([^`]+)`")


def _load_parser(spec: str) -> argparse.ArgumentParser:
    module_name, _, function_name = spec.partition(":")
    function = getattr(importlib.import_module(module_name), function_name or "build_parser")
    parser = function()
    if not isinstance(parser, argparse.ArgumentParser):
        raise TypeError(f"{spec} returned {type(parser).__name__}, not an ArgumentParser")
    return parser


def _subcommands(
    parser: argparse.ArgumentParser,
) -> Iterator[tuple[str, str, argparse.ArgumentParser]]:
    """Every (name, help, parser) of a parser's sub-commands, aliases skipped."""
    for action in parser._actions:
        if not isinstance(action, argparse._SubParsersAction):
            continue
        helps = {choice.dest: choice.help or "" for choice in action._choices_actions}
        seen: set[int] = set()
        for name, sub in action.choices.items():
            if id(sub) in seen:
                continue
            seen.add(id(sub))
            yield name, helps.get(name, ""), sub


def _inline(text: str) -> str:
    """Help text as reST: markup characters escaped, options and `commands` as literals."""
    parts = []
    for i, piece in enumerate(_BACKTICKED.split(text)):
        if i % 2:
            parts.append(f"``{piece}``")
            continue
        for j, bit in enumerate(_LITERAL.split(piece)):
            if j % 2:
                parts.append(f"``{bit}``")
                continue
            bit = bit.replace("\\", "\\\\")
            for char in "*|_[":
                bit = bit.replace(char, "\\" + char)
            parts.append(bit)
    return "".join(parts)


def _help(action: argparse.Action, parser: argparse.ArgumentParser) -> str:
    """The help text with ``%(default)s`` and friends filled in, as ``--help`` shows it."""
    if not action.help:
        return ""
    return parser._get_formatter()._expand_help(action)


def _invocation(action: argparse.Action, parser: argparse.ArgumentParser) -> str:
    return parser._get_formatter()._format_action_invocation(action)


@dataclass
class _Writer:
    """Writes the sections, remembering which shared groups were written already."""

    prefix: str
    shared: dict[tuple[str, tuple[str, ...]], str] = field(default_factory=dict)

    def group_key(self, title: str, actions: list[argparse.Action]) -> tuple[str, tuple[str, ...]]:
        return title, tuple(sorted(s for a in actions for s in a.option_strings or [a.dest]))

    def describe(
        self, parser: argparse.ArgumentParser, depth: int, anchor: str, shared_titles: set[str]
    ) -> list[str]:
        heading = f"``{parser.prog}``"
        lines = [f".. _{anchor}:", "", heading, _UNDERLINES[depth] * len(heading), ""]
        usage = parser.format_usage().strip().removeprefix("usage:").strip()
        lines += [".. code-block:: text", ""]
        lines += ["   " + line for line in usage.splitlines()]
        lines.append("")
        if parser.description:
            lines += [_inline(parser.description), ""]
        for group in parser._action_groups:
            actions = [
                a
                for a in group._group_actions
                if a.help != argparse.SUPPRESS and not isinstance(a, argparse._SubParsersAction)
            ]
            if not actions:
                continue
            title = (group.title or "options").strip()
            key = self.group_key(title, actions)
            if title in shared_titles and key in self.shared:
                lines += [
                    f".. rubric:: {title.capitalize()}",
                    "",
                    f"The :ref:`{title} <{self.shared[key]}>` ({len(actions)} options).",
                    "",
                ]
                continue
            if title in shared_titles:
                self.shared[key] = f"{anchor}-{re.sub(r'[^a-z0-9]+', '-', title.lower())}"
                lines += [f".. _{self.shared[key]}:", ""]
            lines += [f".. rubric:: {title.capitalize()}", ""]
            for action in actions:
                lines.append(f"``{_invocation(action, parser)}``")
                text = _inline(_help(action, parser)) or "(no description)"
                lines += ["   " + line for line in text.splitlines()]
                lines.append("")
        if parser.epilog and depth == 1:
            lines += [_inline(parser.epilog), ""]
        subs = list(_subcommands(parser))
        if subs:
            lines += [".. rubric:: Commands", ""]
            for name, help_text, _ in subs:
                lines.append(f"* :ref:`{name} <{anchor}-{name}>`: {_inline(help_text)}")
            lines.append("")
            for name, _, sub in subs:
                lines += self.describe(sub, depth + 1, f"{anchor}-{name}", shared_titles)
        return lines


def _shared_titles(parser: argparse.ArgumentParser) -> set[str]:
    """Titles of groups that appear in more than one parser of the tree."""
    counts: dict[str, int] = {}

    def walk(p: argparse.ArgumentParser) -> None:
        for group in p._action_groups:
            if group.title and group._group_actions and group not in _standard_groups(p):
                counts[group.title] = counts.get(group.title, 0) + 1
        for _, _, sub in _subcommands(p):
            walk(sub)

    walk(parser)
    return {title for title, n in counts.items() if n > 1}


def _standard_groups(parser: argparse.ArgumentParser) -> tuple[object, ...]:
    return (parser._positionals, parser._optionals)


class CLIReference(SphinxDirective):
    """Emit the reference of an argparse-based command line."""

    required_arguments = 1
    has_content = False

    def run(self) -> list[nodes.Node]:
        spec = self.arguments[0]
        # argparse wraps usage lines at the terminal width: pin it so every
        # build writes the same page.
        saved = os.environ.get("COLUMNS")
        os.environ["COLUMNS"] = "80"
        try:
            parser = _load_parser(spec)
            anchor = f"cli-{parser.prog}"
            lines = _Writer(anchor).describe(parser, 1, anchor, _shared_titles(parser))
        finally:
            if saved is None:
                del os.environ["COLUMNS"]
            else:
                os.environ["COLUMNS"] = saved
        text = StringList(lines, source=f"<cli-reference {spec}>")
        container = nodes.section()
        container.document = self.state.document
        nested_parse_with_titles(self.state, text, container)
        return list(container.children)


def setup(app: Sphinx) -> ExtensionMetadata:
    app.add_directive("cli-reference", CLIReference)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
