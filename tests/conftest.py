"""Shared fixtures: a fresh FakeFlattr per test and clients signed for its default user."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

import flattr
from flattr.testing import FakeFlattr

ALL_SCOPES = ("read", "click", "publish", "extendedread")


@pytest.fixture
def fake() -> Iterator[FakeFlattr]:
    """A FakeFlattr on 127.0.0.1, stopped after the test."""
    with FakeFlattr() as server:
        yield server


@pytest.fixture
def client(fake: FakeFlattr) -> Iterator[flattr.FlattrClient]:
    """A client for the fake's default user ("alice") holding every scope."""
    token = fake.issue_access_token(scopes=ALL_SCOPES)
    with flattr.FlattrClient(
        fake.consumer.key, fake.consumer.secret, token, base_url=fake.base_url, timeout=10
    ) as api:
        yield api


@pytest.fixture
def auth(fake: FakeFlattr) -> flattr.FlattrAuth:
    """A FlattrAuth for the fake's consumer, with a web callback."""
    return flattr.FlattrAuth(
        fake.consumer.key,
        fake.consumer.secret,
        "http://127.0.0.1:9/callback",
        base_url=fake.base_url,
        timeout=10,
    )


@pytest.fixture
def make_client(fake: FakeFlattr) -> Iterator[Callable[..., flattr.FlattrClient]]:
    """A factory: ``make_client(scopes=(...), user=..., **client_options)``.

    Clients it made are closed after the test.
    """
    made: list[flattr.FlattrClient] = []

    def factory(
        *, scopes: tuple[str, ...] = ALL_SCOPES, user: Any = None, **options: Any
    ) -> flattr.FlattrClient:
        token = fake.issue_access_token(user, scopes=scopes)
        options.setdefault("timeout", 10)
        options.setdefault("base_url", fake.base_url)
        api = flattr.FlattrClient(fake.consumer.key, fake.consumer.secret, token, **options)
        made.append(api)
        return api

    yield factory
    for api in made:
        api.close()
