"""Check what the built sdist and wheel contain: ``python .ci/check_dist.py DIST_DIR``.

The wheel is what users install: the ``flattr`` package with ``py.typed``,
its metadata, and nothing of the repository around it (no tests, docs or
benchmarks), and no extra's dependency for every install. The
sdist must be able to run its own tests and build its own docs, so it
carries them (see ``MANIFEST.in``).
"""

from __future__ import annotations

import email.parser
import sys
import tarfile
import zipfile
from pathlib import Path

#: Dependencies every install gets, and some that only extras may bring.
CORE = {"oauthlib", "httplib2", "defusedxml"}
EXTRAS_ONLY = {"platformdirs", "tqdm", "feedparser", "trustme", "keyring", "pytest"}

WHEEL_MUST_HAVE = (
    "flattr/__init__.py",
    "flattr/py.typed",
    "flattr/cli/__init__.py",
    "flattr/testing/__init__.py",
    "flattr/testing/pytest_plugin.py",
)
SDIST_MUST_HAVE = (
    "PKG-INFO",
    "pyproject.toml",
    "README.rst",
    "CHANGELOG.rst",
    "LICENSE",
    "MANIFEST.in",
    "flattr/py.typed",
    "tests/conftest.py",
    "tests/kit.py",
    "tests/cli/conftest.py",
    "tests/cli/kit.py",
    "tests/project/test_readme.py",
    "docs/conf.py",
    "docs/index.rst",
    "docs/changelog.rst",
    "docs/examples/test_blog.py",
    "benchmarks/run.py",
    ".ci/run",
)
NEVER = (".venv/", "__pycache__/", "docs/_build/", ".pytest_cache/", ".git/", ".pyc")


def _requirement_name(value: str) -> str:
    name = value.split(";")[0]
    for stop in "<>=!~[ (":
        name = name.split(stop)[0]
    return name.strip().lower()


def check_wheel(path: Path) -> list[str]:
    """The problems with the wheel at ``path`` (an empty list when there are none)."""
    problems = []
    with zipfile.ZipFile(path) as wheel:
        names = wheel.namelist()
        info = [n for n in names if n.endswith(".dist-info/METADATA")]
        metadata = wheel.read(info[0]).decode() if len(info) == 1 else ""
    for needed in WHEEL_MUST_HAVE:
        if needed not in names:
            problems.append(f"wheel: {needed} is missing")
    for name in names:
        top = name.split("/")[0]
        if top != "flattr" and not top.endswith(".dist-info"):
            problems.append(f"wheel: {name} is not part of the package")
        if any(part in name for part in NEVER):
            problems.append(f"wheel: {name} should not be there")
    if not metadata:
        problems.append("wheel: no METADATA")
    message = email.parser.Parser().parsestr(metadata)
    unconditional = {
        _requirement_name(value)
        for value in message.get_all("Requires-Dist") or []
        if "extra ==" not in value
    }
    if not unconditional >= CORE or unconditional & EXTRAS_ONLY:
        problems.append(f"wheel: unconditional dependencies {sorted(unconditional)}")
    return problems


def check_sdist(path: Path) -> list[str]:
    """The problems with the sdist at ``path`` (an empty list when there are none)."""
    problems = []
    with tarfile.open(path) as sdist:
        names = sdist.getnames()
    roots = {name.split("/")[0] for name in names}
    if len(roots) != 1:
        return [f"sdist: more than one top-level directory: {sorted(roots)}"]
    (root,) = roots
    inside = {name.removeprefix(f"{root}/") for name in names}
    for needed in SDIST_MUST_HAVE:
        if needed not in inside:
            problems.append(f"sdist: {needed} is missing")
    if not any(name.startswith("tests/data/") for name in inside):
        problems.append("sdist: tests/data/ is missing")
    for name in inside:
        if any(part in name for part in NEVER):
            problems.append(f"sdist: {name} should not be there")
    return problems


def main(argv: list[str]) -> int:
    """Check the one sdist and the one wheel in ``argv[0]``; 1 on any problem."""
    dist = Path(argv[0])
    wheels = sorted(dist.glob("flattr-*.whl"))
    sdists = sorted(dist.glob("flattr-*.tar.gz"))
    if len(wheels) != 1 or len(sdists) != 1:
        print(f"expected one wheel and one sdist in {dist}, found {wheels + sdists}")
        return 1
    problems = check_wheel(wheels[0]) + check_sdist(sdists[0])
    for problem in problems:
        print(problem, file=sys.stderr)
    if not problems:
        print(f"{wheels[0].name} and {sdists[0].name}: contents as expected")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
