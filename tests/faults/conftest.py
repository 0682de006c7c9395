"""Fixtures for the fault suite: clients with a fake sleep, a scripted socket server."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

import flattr
from flattr._http import Transport
from flattr.testing import FakeFlattr

from .kit import ALL_SCOPES, Rig, RigFactory, ScriptedServer


@pytest.fixture
def make_rig(fake: FakeFlattr) -> Iterator[RigFactory]:
    """``make_rig(**transport_options)``: a client whose backoff sleeps are recorded, not slept."""
    made: list[Rig] = []

    def factory(**options: Any) -> Rig:
        waits: list[float] = []
        options.setdefault("timeout", 5.0)
        transport = Transport(sleep=waits.append, **options)
        token = fake.issue_access_token(scopes=ALL_SCOPES)
        api = flattr.FlattrClient(
            fake.consumer.key,
            fake.consumer.secret,
            token,
            base_url=fake.base_url,
            transport=transport,
        )
        rig = Rig(fake, api, transport, waits)
        made.append(rig)
        return rig

    yield factory
    for rig in made:
        rig.client.close()


@pytest.fixture
def rig(make_rig: RigFactory) -> Rig:
    """A rig with the default retry policy (2 retries)."""
    return make_rig()


@pytest.fixture
def scripted() -> Iterator[Callable[..., ScriptedServer]]:
    """``scripted(handler)``: a raw socket server on 127.0.0.1, stopped after the test."""
    servers: list[ScriptedServer] = []

    def factory(handler: Any, **options: Any) -> ScriptedServer:
        server = ScriptedServer(handler, **options)
        server.start()
        servers.append(server)
        return server

    yield factory
    for server in servers:
        server.stop()
