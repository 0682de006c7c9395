"""Where things are, for every test folder: the repository's root and the shared data."""

from __future__ import annotations

from pathlib import Path

#: The repository (or unpacked sdist) root: README.rst, docs/, benchmarks/.
ROOT = Path(__file__).resolve().parent.parent
#: Shared test data: real 2010 bodies and the official v2 examples.
DATA = ROOT / "tests" / "data"
