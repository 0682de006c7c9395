"""``.. cli-reference:: module:function``: the CLI reference, generated from argparse.

The directive imports the function, calls it to get the
:class:`argparse.ArgumentParser`, and writes one section per command and
sub-command: its usage line, its description, its positional arguments and
its options, exactly as the parser defines them. Nothing is retyped, so the
page cannot drift from the program.
"""

from __future__ import annotations

import argparse
import importlib
import os
from collections.abc import Iterator

from docutils import nodes
from docutils.statemachine import StringList
from sphinx.application import Sphinx
from sphinx.util.docutils import SphinxDirective
from sphinx.util.nodes import nested_parse_with_titles
from sphinx.util.typing import ExtensionMetadata

_UNDERLINES = "=-~^\"'`"


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


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("*", "\\*").replace("`", "\\`").replace("|", "\\|")


def _expand_help(action: argparse.Action, parser: argparse.ArgumentParser) -> str:
    """The help text with ``%(default)s`` and friends filled in, as ``--help`` shows it."""
    if not action.help:
        return ""
    formatter = parser._get_formatter()
    return formatter._expand_help(action)


def _invocation(action: argparse.Action, parser: argparse.ArgumentParser) -> str:
    formatter = parser._get_formatter()
    return formatter._format_action_invocation(action)


def _describe(parser: argparse.ArgumentParser, title: str, depth: int, anchor: str) -> list[str]:
    heading = f"``{title}``"
    lines = [f".. _{anchor}:", "", heading, _UNDERLINES[depth] * len(heading), ""]
    usage = parser.format_usage().strip()
    usage = usage.removeprefix("usage:").strip()
    lines += [".. code-block:: text", ""]
    lines += ["   " + line for line in usage.splitlines()]
    lines.append("")
    if parser.description:
        lines += [_escape(parser.description), ""]
    positionals: list[argparse.Action] = []
    options: list[argparse.Action] = []
    for action in parser._actions:
        if action.help == argparse.SUPPRESS or isinstance(action, argparse._SubParsersAction):
            continue
        (options if action.option_strings else positionals).append(action)
    for rubric, actions in (("Arguments", positionals), ("Options", options)):
        if not actions:
            continue
        lines += [f".. rubric:: {rubric}", ""]
        for action in actions:
            lines.append(f"``{_invocation(action, parser)}``")
            text = _escape(_expand_help(action, parser)) or "(no description)"
            lines += ["   " + line for line in text.splitlines()]
            lines.append("")
    subs = list(_subcommands(parser))
    if subs:
        lines += [".. rubric:: Commands", ""]
        for name, help_text, _ in subs:
            lines.append(f"* :ref:`{name} <{anchor}-{name}>`: {_escape(help_text)}")
        lines.append("")
        for name, _, sub in subs:
            lines += _describe(sub, sub.prog, depth + 1, f"{anchor}-{name}")
    return lines


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
            prog = parser.prog
            lines = _describe(parser, prog, 1, f"cli-{prog}")
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
