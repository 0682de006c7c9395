"""Fixtures for the fault suite: clients with a fake sleep, a scripted socket server."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from faultkit import ScriptedServer

import flattr
from flattr._transport import Transport
from flattr.testing import FakeFlattr

ALL_SCOPES = ("read", "click", "publish", "extendedread")


@dataclass
class Rig:
    """A FakeFlattr, a client for alice on it, and the waits its transport slept."""

    fake: FakeFlattr
    client: flattr.FlattrClient
    transport: Transport
    waits: list[float] = field(default_factory=list)


RigFactory = Callable[..., Rig]


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


def close_idle(fake: FakeFlattr, expected: int = 1) -> None:
    """Make the server close its idle keep-alive connections, as a server's idle timeout does.

    The server marks a connection idle a moment after answering, so this polls.
    """
    closed = 0
    deadline = time.monotonic() + 5
    while closed < expected and time.monotonic() < deadline:
        closed += fake.close_idle_connections()
        if closed < expected:
            time.sleep(0.005)
    assert closed == expected, f"closed {closed} idle connections, expected {expected}"
    # let the FIN arrive before the next request, as it would after an idle timeout
    time.sleep(0.05)
