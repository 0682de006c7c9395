"""One FakeFlattr for the whole session, reset before each test (fixture ``fake_flattr_shared``)."""

from __future__ import annotations

import pytest

import flattr
from flattr.testing import FakeFlattr


@pytest.fixture
def client(fake_flattr_shared: FakeFlattr) -> flattr.FlattrClient:
    fake = fake_flattr_shared
    token = fake.issue_access_token(scopes=("read", "publish"))
    return flattr.FlattrClient(
        fake.consumer.key, fake.consumer.secret, token, base_url=fake.base_url
    )


def test_register(fake_flattr_shared: FakeFlattr, client: flattr.FlattrClient) -> None:
    client.register_thing(
        url="https://blog.example.org/1",
        title="One post",
        category="text",
        description="Registered in the first test.",
        language="en_GB",
    )
    assert len(fake_flattr_shared.things) == 1


def test_the_next_test_starts_clean(
    fake_flattr_shared: FakeFlattr, client: flattr.FlattrClient
) -> None:
    # the same server (same port, same consumer), but the thing above is gone
    assert fake_flattr_shared.things == ()
    assert client.me().username == "alice"
    assert [r.path for r in fake_flattr_shared.requests] == ["/rest/0.0.1/user/me"]
