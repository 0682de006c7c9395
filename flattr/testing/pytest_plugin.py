"""pytest fixtures for :mod:`flattr.testing` (registered as the ``flattr`` plugin).

Cheap to import: the server code loads only when a fixture is used.

- ``fake_flattr``: a fresh :class:`~flattr.testing.FakeFlattr` per test.
- ``fake_flattr_tls``: the same over HTTPS; its ``ca_bundle`` trusts it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from flattr.testing import FakeFlattr


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
