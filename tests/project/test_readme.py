"""The README's example runs as printed, and the README renders without warnings."""

from __future__ import annotations

import contextlib
import io
import re
import textwrap
import tomllib
from typing import Any

import pytest

from tests.kit import ROOT

README = ROOT / "README.rst"


def python_blocks(text: str) -> list[str]:
    """The bodies of the ``.. code-block:: python`` directives, dedented."""
    blocks = []
    for match in re.finditer(r"^\.\. code-block:: python\n\n((?:(?:   .*)?\n)+)", text, re.M):
        blocks.append(textwrap.dedent(match.group(1)))
    return blocks


def test_the_readme_has_one_short_example() -> None:
    blocks = python_blocks(README.read_text(encoding="utf-8"))
    assert len(blocks) == 1
    code_lines = [line for line in blocks[0].splitlines() if line.strip()]
    # "A ten-line example": the imports and the flow, nothing hidden.
    assert len(code_lines) <= 14, code_lines


def test_the_readme_example_registers_a_thing() -> None:
    (example,) = python_blocks(README.read_text(encoding="utf-8"))
    printed = io.StringIO()
    namespace: dict[str, Any] = {"__name__": "readme_example"}
    with contextlib.redirect_stdout(printed):
        exec(compile(example, str(README), "exec"), namespace)
    assert printed.getvalue() == "Hello, Flattr is registered for alice\n"
    # It ran against a real FakeFlattr over HTTP: the fake registered the thing.
    fake = namespace["fake"]
    thing = fake.thing_by_url("https://blog.example.org/hello")
    assert thing is not None
    assert (thing.title, thing.owner.username) == ("Hello, Flattr", "alice")
    assert fake.requests_to("/oauth/access_token", "POST")


def console_commands(text: str) -> list[str]:
    """The lines of the README's one ``.. code-block:: console``."""
    blocks = re.findall(r"^\.\. code-block:: console\n\n((?:(?:   .*)?\n)+)", text, re.M)
    assert len(blocks) == 1, blocks
    return [line.strip() for line in blocks[0].splitlines() if line.strip()]


def test_the_readme_has_exactly_two_set_up_commands_that_need_no_system_pip() -> None:
    first, second = console_commands(README.read_text(encoding="utf-8"))
    # A system Python may be externally managed (PEP 668): each command makes
    # and uses its own virtual environment, never the system's pip.
    for command in (first, second):
        steps = command.split(" && ")
        assert steps[0] == "python3 -m venv .venv", command
        assert all(step.startswith(".venv/bin/python -m ") for step in steps[1:]), command
    assert first.endswith(" -m flattr demo")
    assert "'.[cli]'" in first  # the demo is the flattr command
    assert second.endswith(" -m pytest")
    assert "-e '.[test]'" in second


def test_ci_runs_the_readme_test_command_first() -> None:
    script = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    commands = [
        line.strip()
        for line in script.splitlines()
        if re.match(r"\s*(python3?|\.venv/bin/python) ", line)
    ]
    assert commands, "no Python command in .ci/run"
    first, second = console_commands(README.read_text(encoding="utf-8"))
    assert commands[0] == second
    # CI runs the demo command too, in the unpacked sdist.
    assert first in commands


def test_the_readme_renders_without_warnings() -> None:
    rst = pytest.importorskip("readme_renderer.rst", reason="readme_renderer is in the docs extra")
    warnings = io.StringIO()
    html = rst.render(README.read_text(encoding="utf-8"), stream=warnings)
    assert html is not None, warnings.getvalue()
    assert warnings.getvalue() == ""


def test_the_readme_links_work_on_the_package_index_too() -> None:
    text = README.read_text(encoding="utf-8")
    targets = re.findall(r"`[^`<]*<([^>]+)>`_", text)
    assert targets, "the README links to the documentation"
    # The index shows the README without the repository around it: no
    # relative links. Each page link is a page of docs/.
    urls = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["urls"]
    docs = urls["Documentation"].rstrip("/") + "/en/latest/"
    pages = 0
    for target in targets:
        assert target.startswith("https://"), target
        if target.startswith(docs):
            page = target.removeprefix(docs).removesuffix(".html")
            assert (ROOT / "docs" / f"{page}.rst").is_file(), target
            pages += 1
    assert pages >= 5
