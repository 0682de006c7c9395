"""Shell completion for bash, zsh and fish, through :mod:`argcomplete`.

``flattr completion SHELL`` prints the script that hooks ``flattr`` into the
shell; the shell then runs ``flattr`` with argcomplete's ``_ARGCOMPLETE``
environment variables set, and :func:`autocomplete` answers from the same
parser every command is built from (so completions can never drift from the
commands). argcomplete comes with the command line's dependencies; without
it, completion is simply off.
"""

from __future__ import annotations

import argparse
import os

from ._errors import EXIT_USAGE, CLIError
from ._registry import Context, command

__all__ = ["SHELLS", "autocomplete", "completion_script"]

#: The shells ``flattr completion`` writes a script for.
SHELLS = ("bash", "zsh", "fish")


def autocomplete(parser: argparse.ArgumentParser) -> None:
    """Answer a completion request from the shell (and exit), if this run is one.

    Does nothing unless ``_ARGCOMPLETE`` is in the environment.
    """
    if "_ARGCOMPLETE" not in os.environ:
        return
    try:
        import argcomplete
    except ImportError:
        return
    argcomplete.autocomplete(parser)


def completion_script(shell: str, program: str = "flattr") -> str:
    """The script that turns on completion of ``program`` in ``shell``.

    :param shell: ``bash``, ``zsh`` or ``fish``.
    :raises CLIError: an unknown shell, or argcomplete is not installed.
    """
    if shell not in SHELLS:
        raise CLIError(f"unknown shell {shell!r}; choose one of {', '.join(SHELLS)}", EXIT_USAGE)
    try:
        from argcomplete.shell_integration import shellcode
    except ImportError:
        raise CLIError(
            "shell completion needs the argcomplete package: pip install 'flattr[cli]'"
        ) from None
    return shellcode([program], shell=shell)


@command(
    "completion",
    "print the shell completion script for bash, zsh or fish",
    "Print a script that makes the shell complete flattr's commands and options. "
    'bash: add eval "$(flattr completion bash)" to ~/.bashrc; zsh: add '
    'eval "$(flattr completion zsh)" to ~/.zshrc after compinit; fish: '
    "flattr completion fish > ~/.config/fish/completions/flattr.fish",
    arguments=lambda p: p.add_argument("shell", choices=SHELLS, help="the shell"),
    common=False,
    examples=(
        'eval "$(flattr completion bash)"',
        "flattr completion fish > ~/.config/fish/completions/flattr.fish",
    ),
)
def completion(ctx: Context) -> int:
    """``flattr completion SHELL``."""
    ctx.out.write(completion_script(ctx.args.shell))
    return 0
