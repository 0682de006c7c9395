"""A FakeFlattr with a large account, in a child process.

Memory bounds on the client need the server elsewhere: an in-process
FakeFlattr builds each list answer in memory too, and tracemalloc would count
it. The child seeds alice with ``things`` things (URLs from :func:`thing_url`),
hands out a token and answers "count PATH" with the number of requests to a
path until told "stop".
"""

from __future__ import annotations

import contextlib
import multiprocessing
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from multiprocessing.connection import Connection

import flattr
from flattr.testing import FakeFlattr
from tests.kit import ROOT

LIST = "/rest/0.0.1/thing/listbyuser/id/"
REGISTER = "/rest/0.0.1/thing/register"


def thing_url(n: int) -> str:
    """The URL of the account's ``n``-th thing."""
    return f"https://big.example.org/posts/{n}"


def serve_account(conn: Connection, things: int, latency: float) -> None:
    """Child process: the fake, seeded, until "stop" (or the pipe closes)."""
    with FakeFlattr(latency=latency) as fake:
        alice = fake.session_user
        for n in range(things):
            fake.add_thing(
                alice,
                url=thing_url(n),
                title=f"Post number {n}",
                description=f"The story of post {n}, told at some length.",
                tags=("garden", "birds"),
            )
        token = fake.issue_access_token(scopes=("read", "publish"))
        conn.send((fake.base_url, fake.consumer.key, fake.consumer.secret, token.key, token.secret))
        while True:
            try:
                message = conn.recv()
            except EOFError:
                return
            if not isinstance(message, str) or not message.startswith("count "):
                return
            conn.send(len(fake.requests_to(message[6:])))


@dataclass
class Account:
    """The child's address and credentials, and the pipe to ask it things."""

    base_url: str
    consumer: tuple[str, str]
    token: tuple[str, str]
    conn: Connection

    def client(self, **options: object) -> flattr.FlattrClient:
        """A client for alice on the child's fake."""
        return flattr.FlattrClient(
            *self.consumer,
            self.token,
            base_url=self.base_url,
            timeout=60,
            **options,  # type: ignore[arg-type]
        )

    def count(self, path: str) -> int:
        """How many requests the fake received on ``path`` (exactly)."""
        self.conn.send(f"count {path}")
        if not self.conn.poll(30):
            raise TimeoutError("the account server did not answer")
        return int(self.conn.recv())


@contextlib.contextmanager
def account_server(things: int, *, latency: float = 0.0) -> Iterator[Account]:
    """Run the child; it is stopped (terminated, then killed) on every way out."""
    context = multiprocessing.get_context("spawn")
    parent, child = context.Pipe()
    process = context.Process(
        target=serve_account, args=(child, things, latency), name="account-server", daemon=True
    )
    # The child imports this module by name (tests.client.kit) to find its target;
    # spawn hands it the parent's sys.path, which under `python -P` (CI's run of
    # the unpacked sdist) lacks the directory that holds tests/. First, since some
    # installed packages ship a top-level `tests` of their own.
    added = str(ROOT) not in sys.path
    if added:
        sys.path.insert(0, str(ROOT))
    try:
        process.start()
    finally:
        if added:
            sys.path.remove(str(ROOT))
    child.close()
    try:
        if not parent.poll(120):
            raise TimeoutError("the account server did not start")
        base_url, key, secret, token_key, token_secret = parent.recv()
        yield Account(base_url, (key, secret), (token_key, token_secret), parent)
    finally:
        with contextlib.suppress(OSError, ValueError):
            parent.send("stop")
        process.join(10)
        if process.is_alive():
            process.terminate()
            process.join(5)
        if process.is_alive():
            process.kill()
            process.join(5)
        parent.close()
