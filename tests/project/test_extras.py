"""The optional dependencies: what needs an extra says which one, and the library needs none.

Each check runs in a fresh interpreter with the extra's packages blocked
(``sys.modules[name] = None`` makes ``import name`` fail, as if it were not
installed), so the packages this test environment has do not hide a
missing check.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path

import pytest

from flattr import _extras
from tests.kit import ROOT

BLOCK_ALL = ("platformdirs", "tqdm", "feedparser", "trustme")


def run_blocked(blocked: tuple[str, ...], code: str) -> subprocess.CompletedProcess[str]:
    prelude = "import sys\n" + "".join(f"sys.modules[{name!r}] = None\n" for name in blocked)
    return subprocess.run(
        [sys.executable, "-c", prelude + textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def requirement_names(requirements: list[str]) -> set[str]:
    names = set()
    for requirement in requirements:
        name = requirement.split(";")[0]
        for stop in "<>=!~[ ":
            name = name.split(stop)[0]
        names.add(name.lower())
    return names


def test_the_library_needs_no_extra() -> None:
    result = run_blocked(
        BLOCK_ALL,
        """
        import flattr
        from flattr import *
        from flattr.testing import FakeFlattr
        import flattr.feeds, flattr.tokenstore
        with FakeFlattr() as fake:
            token = fake.issue_access_token(scopes=("read",))
            client = flattr.FlattrClient(fake.consumer.key, fake.consumer.secret, token,
                                         base_url=fake.base_url)
            print(client.me().username, flattr.PublishReport.__name__)
        """,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == "alice PublishReport\n"


def test_publish_feed_without_feedparser_names_the_extra_before_fetching() -> None:
    result = run_blocked(
        ("feedparser",),
        """
        import flattr
        from flattr.testing import FakeFlattr
        with FakeFlattr() as fake:
            token = fake.issue_access_token(scopes=("read", "publish"))
            client = flattr.FlattrClient(fake.consumer.key, fake.consumer.secret, token,
                                         base_url=fake.base_url)
            try:
                flattr.publish_feed(client, fake.base_url + "/feed.xml")
            except ModuleNotFoundError as exc:
                print(type(exc).__name__, exc.name, exc)
            print("requests:", len(fake.requests))
        """,
    )
    assert result.returncode == 0, result.stderr
    first, second = result.stdout.splitlines()
    assert first == (
        "MissingExtraError feedparser flattr.feeds needs the package feedparser, "
        "not installed here: pip install 'flattr[feeds]'"
    )
    assert second == "requests: 0"


@pytest.mark.parametrize("blocked", ["platformdirs", "tqdm", "feedparser"])
def test_the_command_without_its_extra_is_one_line(blocked: str, tmp_path: Path) -> None:
    result = run_blocked(
        (blocked,),
        """
        from flattr.cli import main
        sys.exit(main(["whoami"]))
        """,
    )
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr == (
        f"flattr: error: the flattr command needs the package {blocked}, "
        "not installed here: pip install 'flattr[cli]'\n"
    )


def test_fake_flattr_tls_without_trustme_names_the_testing_extra() -> None:
    result = run_blocked(
        ("trustme",),
        """
        from flattr.testing import FakeFlattr
        try:
            FakeFlattr(tls=True)
        except RuntimeError as exc:
            print(exc)
        """,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == "tls=True needs the trustme package: pip install 'flattr[testing]'\n"


def test_the_extras_in_pyproject_match_the_checks() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    core = requirement_names(project["dependencies"])
    extras = project["optional-dependencies"]
    for extra, (_, modules) in _extras.EXTRAS.items():
        assert set(modules) <= requirement_names(extras[extra]), extra
        assert not set(modules) & core, extra
    assert "trustme" in requirement_names(extras["testing"])
    assert not {"trustme", "pytest"} & core
