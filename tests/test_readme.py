"""The README's example runs as printed, and the README renders without warnings."""

from __future__ import annotations

import contextlib
import io
import re
import textwrap
from pathlib import Path
from typing import Any

import pytest

README = Path(__file__).resolve().parent.parent / "README.rst"


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


def test_the_readme_keeps_the_two_commands() -> None:
    text = README.read_text(encoding="utf-8")
    assert "python3 -m pip install . && python3 -m flattr demo" in text
    assert "python3 -m pip install -e '.[test]' && python3 -m pytest" in text


def test_the_readme_renders_without_warnings() -> None:
    rst = pytest.importorskip("readme_renderer.rst", reason="readme_renderer is in the docs extra")
    warnings = io.StringIO()
    html = rst.render(README.read_text(encoding="utf-8"), stream=warnings)
    assert html is not None, warnings.getvalue()
    assert warnings.getvalue() == ""


def test_the_readme_links_to_pages_that_exist() -> None:
    text = README.read_text(encoding="utf-8")
    targets = re.findall(r"`[^`<]*<([^>]+)>`_", text)
    local = [t for t in targets if "://" not in t]
    assert local, "the README links to the documentation"
    for target in local:
        assert (README.parent / target).is_file(), target
