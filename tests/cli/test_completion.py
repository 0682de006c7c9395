"""Shell completion: the scripts for each shell, and argcomplete's protocol in a subprocess."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from .kit import PYTHON, Result, subprocess_env

Run = Callable[..., Result]


@pytest.mark.parametrize(
    ("shell", "marker"),
    [
        ("bash", "complete -o nospace -o default -o bashdefault -F _python_argcomplete flattr"),
        ("zsh", "#compdef flattr"),
        ("fish", "complete --command flattr"),
    ],
)
def test_each_shell_gets_its_script(run: Run, shell: str, marker: str) -> None:
    result = run("completion", shell)
    assert result.status == 0, result.err
    assert marker in result.out
    assert "_ARGCOMPLETE" in result.out


def test_an_unknown_shell_is_a_usage_error(run: Run) -> None:
    result = run("completion", "tcsh")
    assert result.status == 2 and "invalid choice" in result.err


def _complete(tmp_path: Path, line: str, shell: str = "bash") -> list[str]:
    """What ``flattr`` answers a shell that completes ``line`` (cursor at its end)."""
    answer = tmp_path / "completions"
    env = subprocess_env(
        tmp_path / "config",
        _ARGCOMPLETE="1",
        _ARGCOMPLETE_SHELL=shell,
        _ARGCOMPLETE_IFS="\n",
        _ARGCOMPLETE_STDOUT_FILENAME=str(answer),
        COMP_LINE=line,
        COMP_POINT=str(len(line)),
        COMP_TYPE="9",
    )
    proc = subprocess.Popen(
        [PYTHON, "-m", "flattr"],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
    assert proc.returncode == 0, err
    return sorted(answer.read_text(encoding="utf-8").split("\n"))


def test_completing_a_partial_command(tmp_path: Path) -> None:
    assert _complete(tmp_path, "flattr th") == ["thing "]  # one match: a space follows
    assert _complete(tmp_path, "flattr su") == ["subscribe", "subscriptions"]
    words = [w for w in _complete(tmp_path, "flattr thing ") if not w.startswith("-")]
    assert words == [
        "browse",
        "create",
        "delete",
        "find-url",
        "list",
        "register",
        "search",
        "show",
        "update",
    ]
    assert _complete(tmp_path, "flattr completion ")[-3:] == ["bash", "fish", "zsh"]
    assert _complete(tmp_path, "flattr login --ap") == ["--api "]


def test_zsh_completions_carry_descriptions(tmp_path: Path) -> None:
    answer = _complete(tmp_path, "flattr su", shell="zsh")
    assert answer == [
        "subscribe:subscribe to a thing (API v2; needs the flattr scope)",
        "subscriptions:list your subscriptions (API v2; needs the flattr scope)",
    ]


def test_the_command_list_is_the_registry(run: Run) -> None:
    # completion reads the same parser as --help: every declared command is offered
    from flattr.cli._registry import COMMANDS

    top = {name.split(" ")[0] for name in COMMANDS}
    assert {"completion", "rate-limit", "flattr-url", "thing", "feed"} <= top
    assert json.dumps(sorted(top))  # the names are plain strings
