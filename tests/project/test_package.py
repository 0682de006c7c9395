"""Package-level promises: exports, one error root, typed, safe to print, a working demo."""

from __future__ import annotations

import inspect
import io
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import flattr
from flattr import errors
from flattr.cli import main
from tests.kit import ROOT


def test_all_lists_exactly_the_public_names() -> None:
    # dir(), not vars(): the flattr.feeds names are loaded on first use.
    public = {
        name
        for name in dir(flattr)
        if name.isidentifier()  # pytest's assertion rewriting may add "@py_builtins"
        and not name.startswith("_")
        and not inspect.ismodule(getattr(flattr, name))
        and name not in {"annotations"}
    }
    assert set(flattr.__all__) == public | {"__version__"}
    assert list(flattr.__all__) == sorted(flattr.__all__, key=lambda n: (n.startswith("_"), n))


def test_every_exception_descends_from_flattr_error() -> None:
    classes = [
        value
        for value in vars(errors).values()
        if inspect.isclass(value) and issubclass(value, BaseException)
    ]
    assert len(classes) >= 15
    for cls in classes:
        assert issubclass(cls, flattr.FlattrError), cls
    assert issubclass(flattr.ValidationError, ValueError)


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (401, flattr.AuthenticationError),
        (403, flattr.ForbiddenError),
        (404, flattr.NotFoundError),
        (400, flattr.ClientError),
        (429, flattr.ClientError),
        (500, flattr.ServerError),
        (503, flattr.ServerError),
    ],
)
def test_status_table(status: int, cls: type[flattr.APIError]) -> None:
    assert errors.error_for_status(status) is cls


def test_every_public_name_has_a_docstring() -> None:
    for name in flattr.__all__:
        value = getattr(flattr, name)
        if inspect.isclass(value) or inspect.isfunction(value):
            assert inspect.getdoc(value), name
            for member_name, member in vars(value).items():
                if inspect.isfunction(member) and not member_name.startswith("_"):
                    assert inspect.getdoc(member), f"{name}.{member_name}"


def test_models_are_frozen_and_print_usefully(client: flattr.FlattrClient) -> None:
    me = client.me()
    with pytest.raises(AttributeError):
        me.username = "mallory"  # type: ignore[misc]
    assert repr(me).startswith("User(id=")
    assert "username='alice'" in repr(me)


def test_demo_walks_the_whole_flow_without_showing_secrets() -> None:
    out = io.StringIO()
    from flattr.cli._demo import run_demo

    assert run_demo(out) == 0
    text = out.getvalue()
    for step in (
        "1. Ask for a request token",
        "2. Send the user",
        "3. Read the verifier",
        "4. Exchange",
        "5. Call the API",
    ):
        assert step in text
    assert "client.me() -> alice" in text
    assert "oauth_verifier=…" in text
    assert "secret" not in text.lower().replace("it is a secret", "")


def test_python_dash_m_flattr_demo() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "flattr", "demo"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "client.register_thing(...)" in result.stdout


def test_cli_main_returns_usage_status(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["no-such-command"]) == 2
    assert "invalid choice" in capsys.readouterr().err


@pytest.mark.slow
def test_wheel_ships_py_typed(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(ROOT)],
        check=True,
        timeout=300,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("flattr-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "flattr/py.typed" in names
    assert "flattr/testing/__init__.py" in names
    assert not any(name.startswith("tests/") for name in names)
