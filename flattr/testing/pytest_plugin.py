"""pytest fixtures for :mod:`flattr.testing` (registered as the ``flattr`` plugin).

Cheap to import: this module loads with every pytest run, so it imports
nothing but pytest; the client and the server load when a fixture is used.

- ``fake_flattr``: a fresh :class:`~flattr.testing.FakeFlattr` per test.
- ``fake_flattr_tls``: the same over HTTPS; its ``ca_bundle`` trusts it.
- ``fake_flattr_shared``: one server for the whole session, reset before
  each test (:meth:`~flattr.testing.FakeFlattr.reset`): for suites with
  thousands of tests.
- ``fake_flattr_session``: that session-wide server itself, not reset.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from flattr.testing import FakeFlattr

__all__ = ["fake_flattr", "fake_flattr_session", "fake_flattr_shared", "fake_flattr_tls"]


@pytest.fixture
def fake_flattr() -> Iterator[FakeFlattr]:
    """A running fake Flattr server on ``127.0.0.1``, stopped after the test."""
    from flattr.testing import FakeFlattr

    with FakeFlattr() as fake:
        yield fake


@pytest.fixture
def fake_flattr_tls() -> Iterator[FakeFlattr]:
    """A running fake Flattr server over HTTPS (test CA in ``fake.ca_bundle``)."""
    from flattr.testing import FakeFlattr

    with FakeFlattr(tls=True) as fake:
        yield fake


@pytest.fixture(scope="session")
def fake_flattr_session() -> Iterator[FakeFlattr]:
    """One fake Flattr server for the whole session, stopped at its end (never reset)."""
    from flattr.testing import FakeFlattr

    with FakeFlattr() as fake:
        yield fake


@pytest.fixture
def fake_flattr_shared(fake_flattr_session: FakeFlattr) -> FakeFlattr:
    """The session's server, reset before the test: same consumer, only ``alice``, no log."""
    fake_flattr_session.reset()
    return fake_flattr_session
