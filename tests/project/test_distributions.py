"""The checks CI runs on the built sdist and wheel (``.ci/check_dist.py``) catch what they should.

CI builds the real distributions and runs the checker on them; these tests
feed it small hand-made archives, one fault at a time, so that a checker
that lets everything through fails here.
"""

from __future__ import annotations

import importlib.util
import io
import tarfile
import zipfile
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest

from tests.kit import ROOT


@pytest.fixture(scope="module")
def check_dist() -> ModuleType:
    spec = importlib.util.spec_from_file_location("check_dist", ROOT / ".ci" / "check_dist.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


METADATA = """\
Metadata-Version: 2.4
Name: flattr
Version: 0.1.0
Requires-Dist: oauthlib>=3.2
Requires-Dist: httplib2>=0.22
Requires-Dist: defusedxml>=0.7
Requires-Dist: feedparser>=6.0.10; extra == "feeds"
Requires-Dist: platformdirs>=4; extra == "cli"
"""


def make_wheel(path: Path, names: list[str], metadata: str = METADATA) -> Path:
    with zipfile.ZipFile(path, "w") as wheel:
        for name in names:
            wheel.writestr(name, "")
        wheel.writestr("flattr-0.1.0.dist-info/METADATA", metadata)
    return path


def make_sdist(path: Path, names: list[str]) -> Path:
    with tarfile.open(path, "w:gz") as sdist:
        for name in names:
            info = tarfile.TarInfo(f"flattr-0.1.0/{name}")
            sdist.addfile(info, io.BytesIO(b""))
    return path


def good_wheel_names(check_dist: ModuleType) -> list[str]:
    return list(check_dist.WHEEL_MUST_HAVE)


def good_sdist_names(check_dist: ModuleType) -> list[str]:
    return [*check_dist.SDIST_MUST_HAVE, "tests/data/real-2010/user.xml"]


def test_a_good_pair_passes(check_dist: ModuleType, tmp_path: Path) -> None:
    make_wheel(tmp_path / "flattr-0.1.0-py3-none-any.whl", good_wheel_names(check_dist))
    make_sdist(tmp_path / "flattr-0.1.0.tar.gz", good_sdist_names(check_dist))
    assert check_dist.main([str(tmp_path)]) == 0


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (lambda names: names.remove("flattr/py.typed"), "wheel: flattr/py.typed is missing"),
        (lambda names: names.append("tests/conftest.py"), "wheel: tests/conftest.py is not part"),
        (lambda names: names.append("docs/conf.py"), "wheel: docs/conf.py is not part"),
        (
            lambda names: names.append("flattr/__pycache__/x.pyc"),
            "wheel: flattr/__pycache__/x.pyc should not",
        ),
    ],
)
def test_the_wheel_checks(
    check_dist: ModuleType, tmp_path: Path, change: Callable[[list[str]], object], problem: str
) -> None:
    names = good_wheel_names(check_dist)
    change(names)
    problems = check_dist.check_wheel(make_wheel(tmp_path / "w.whl", names))
    assert any(p.startswith(problem) for p in problems), problems


def test_a_cli_dependency_for_every_install_is_caught_a_new_core_one_is_not(
    check_dist: ModuleType, tmp_path: Path
) -> None:
    metadata = METADATA + "Requires-Dist: tqdm>=4.66\n"
    wheel = make_wheel(tmp_path / "w.whl", good_wheel_names(check_dist), metadata)
    (problem,) = check_dist.check_wheel(wheel)
    assert "tqdm" in problem
    metadata = METADATA + "Requires-Dist: pysocks>=1.7\n"
    wheel = make_wheel(tmp_path / "w.whl", good_wheel_names(check_dist), metadata)
    assert check_dist.check_wheel(wheel) == []


@pytest.mark.parametrize("missing", ["tests/conftest.py", "docs/conf.py", "CHANGELOG.rst"])
def test_the_sdist_must_carry_what_its_tests_and_docs_need(
    check_dist: ModuleType, tmp_path: Path, missing: str
) -> None:
    names = good_sdist_names(check_dist)
    names.remove(missing)
    problems = check_dist.check_sdist(make_sdist(tmp_path / "s.tar.gz", names))
    assert problems == [f"sdist: {missing} is missing"]


def test_the_sdist_leaves_out_build_output(check_dist: ModuleType, tmp_path: Path) -> None:
    names = [*good_sdist_names(check_dist), "docs/_build/html/index.html"]
    problems = check_dist.check_sdist(make_sdist(tmp_path / "s.tar.gz", names))
    assert problems == ["sdist: docs/_build/html/index.html should not be there"]
