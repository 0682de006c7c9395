"""The optional parts of flattr, and a clear error when one is not installed.

``pip install flattr`` installs the library alone. The ``flattr`` command
and :mod:`flattr.feeds` need more, listed as extras in ``pyproject.toml``
(keep :data:`EXTRAS` in step with it). Whatever needs an extra calls
:func:`require` first, so that a missing package is one line naming the
extra to install, not a traceback from deep inside.
"""

from __future__ import annotations

import importlib.util

__all__ = ["EXTRAS", "MissingExtraError", "require"]

#: Each extra: (the feature it is for, the modules it provides).
EXTRAS: dict[str, tuple[str, tuple[str, ...]]] = {
    "feeds": ("flattr.feeds", ("feedparser",)),
    "cli": ("the flattr command", ("platformdirs", "tqdm", "feedparser", "argcomplete")),
}


class MissingExtraError(ModuleNotFoundError):
    """A feature needs an extra that is not installed.

    A :exc:`ModuleNotFoundError`, so ``except ImportError`` still catches
    it. :attr:`extra` is the extra's name.
    """

    def __init__(self, extra: str, feature: str, missing: tuple[str, ...]) -> None:
        self.extra = extra
        packages = "the package " if len(missing) == 1 else "the packages "
        super().__init__(
            f"{feature} needs {packages}{', '.join(missing)}, not installed here: "
            f"pip install 'flattr[{extra}]'",
            name=missing[0],
        )


def _missing(modules: tuple[str, ...]) -> tuple[str, ...]:
    # find_spec looks without importing (the CLI starts fast), and treats a
    # module blocked with sys.modules[name] = None as missing.
    absent = []
    for module in modules:
        try:
            found = importlib.util.find_spec(module) is not None
        except (ImportError, ValueError):
            found = False
        if not found:
            absent.append(module)
    return tuple(absent)


def require(extra: str) -> None:
    """Check that the packages of ``extra`` can be imported.

    :param extra: a key of :data:`EXTRAS`.
    :raises MissingExtraError: one of them is missing; the message says
        ``pip install 'flattr[extra]'``.
    """
    feature, modules = EXTRAS[extra]
    missing = _missing(modules)
    if missing:
        raise MissingExtraError(extra, feature, missing)
