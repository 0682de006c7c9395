"""``flattr sandbox``: a FakeFlattr to try the command (or your code) against, until Ctrl-C."""

from __future__ import annotations

import argparse
import os
import shlex
import threading
from typing import TYPE_CHECKING, TextIO

from ._errors import EXIT_USAGE, CLIError
from ._registry import Context, command

if TYPE_CHECKING:
    from flattr.testing import Credentials, FakeFlattr

__all__ = ["run_sandbox"]

#: Requests a sandbox remembers: the log is bounded, so one left running
#: for weeks stays the same size.
_RECORDED = 1000


def _sandbox_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--port",
        type=int,
        default=8710,
        help="the port to listen on (default: 8710; 0 picks a free one)",
    )
    parser.add_argument(
        "--consumer-key",
        dest="sandbox_consumer_key",
        default=None,
        metavar="KEY",
        help="register this consumer key (default: a random one)",
    )
    parser.add_argument(
        "--consumer-secret",
        dest="sandbox_consumer_secret",
        default=None,
        metavar="SECRET",
        help="register this consumer secret (default: a random one)",
    )
    parser.add_argument(
        "--empty",
        action="store_true",
        default=False,
        help="start without the example users and things",
    )
    parser.add_argument(
        "--state",
        default=None,
        metavar="FILE",
        help="keep users, things, clicks, consumers and tokens in this SQLite file, so a "
        "restarted sandbox carries on where it stopped (created when missing; default: "
        "forget everything at Ctrl-C)",
    )
    parser.add_argument("--debug", action="store_true", help="show the server's DEBUG logs")


@command(
    "sandbox",
    "run a fake Flattr server on 127.0.0.1 until Ctrl-C",
    "Start FakeFlattr (with a few users and things) and print a consumer key and secret "
    "for API 0.0.1 and an OAuth 2 client id and secret for API v2. Point other commands "
    "at it with --base-url or FLATTR_BASE_URL.",
    arguments=_sandbox_arguments,
    common=False,
    examples=(
        "flattr sandbox",
        "flattr sandbox --port 0 --empty",
        "flattr sandbox --state ~/.cache/flattr-sandbox.sqlite",
    ),
)
def sandbox(ctx: Context) -> int:
    """Run ``flattr sandbox`` until Ctrl-C."""
    return run_sandbox(ctx.args, ctx.out)


def run_sandbox(args: argparse.Namespace, out: TextIO, stop: threading.Event | None = None) -> int:
    """Run ``flattr sandbox`` until Ctrl-C (or until ``stop`` is set).

    :param args: ``port``, ``consumer_key``, ``consumer_secret``, ``empty``, ``state``.
    :param out: where to print the instructions.
    :param stop: an event that ends the sandbox, for callers other than a terminal.
    """
    if not 0 <= args.port <= 65535:
        raise CLIError("--port must be between 0 and 65535", EXIT_USAGE)
    key, secret = args.sandbox_consumer_key, args.sandbox_consumer_secret
    if (key is None) != (secret is None):
        raise CLIError(
            "give both --consumer-key and --consumer-secret to the sandbox, or neither",
            EXIT_USAGE,
        )
    from flattr.testing import FakeFlattr, StateError

    state: str | None = None if args.state is None else os.path.expanduser(args.state)
    try:
        fake = FakeFlattr(port=args.port, state=state, max_recorded=_RECORDED)
    except StateError as exc:
        raise CLIError(f"--state: {exc}") from None
    try:
        fake.start()
    except OSError as exc:
        fake.stop()
        raise CLIError(
            f"cannot listen on 127.0.0.1:{args.port} ({exc.strerror or exc}); choose another "
            "--port, or --port 0 for any free one"
        ) from None
    try:
        consumer = _sandbox_consumer(fake, key, secret)
        # API v2's applications live in memory only: a new one each start. Without a
        # redirect URI, its consent page shows the code (flattr login --api v2 --oob).
        app = fake.add_oauth2_client(redirect_uri=None, name=_CONSUMER_NAME)
        if not args.empty and not fake.restored:
            fake.seed_demo()
        users = ", ".join(u.username for u in fake.users)
        exports = [
            ("FLATTR_BASE_URL", fake.base_url),
            ("FLATTR_CONSUMER_KEY", consumer.key),
            ("FLATTR_CONSUMER_SECRET", consumer.secret),
            ("FLATTR_PROFILE", "sandbox"),
        ]
        restored = (
            [f"State restored from {state}: {len(fake.users)} users, {len(fake.things)} things."]
            if fake.restored
            else []
        )
        lines = [
            f"FakeFlattr sandbox running at {fake.base_url} (127.0.0.1 only).",
            *restored,
            f"Users: {users}; the consent page signs you in as {fake.session_user.username!r}.",
            "Its consumer key and secret (made up, only good for this sandbox):",
            f"    consumer key:    {consumer.key}",
            f"    consumer secret: {consumer.secret}",
            "",
            "In another terminal, run:",
            "",
            *(f"    export {name}={shlex.quote(value)}" for name, value in exports),
            "    flattr login --scope read,click,publish",
            "    flattr whoami",
            "",
            "For API v2 (OAuth 2), its client id and secret (new at each start):",
            f"    client id:     {app.client_id}",
            f"    client secret: {app.client_secret}",
            "",
            *(
                f"    export {name}={shlex.quote(value)}"
                for name, value in (
                    ("FLATTR_CLIENT_ID", app.client_id),
                    ("FLATTR_CLIENT_SECRET", app.client_secret),
                )
            ),
            "    flattr login --api v2 --oob --scope flattr,thing --profile sandbox-v2",
            "    flattr whoami --profile sandbox-v2",
            "",
            (
                f"Everything is kept in {state}: start the sandbox with --state again to carry "
                "on. Press Ctrl-C to stop it."
                if state is not None
                else "Everything is forgotten when the sandbox stops. Press Ctrl-C to stop it."
            ),
        ]
        print("\n".join(lines), file=out, flush=True)
        event = stop or threading.Event()
        while not event.wait(3600):  # a timed wait, so Ctrl-C is seen everywhere
            pass
    except KeyboardInterrupt:
        pass  # Ctrl-C is how a sandbox ends, whenever it comes
    except StateError as exc:
        raise CLIError(f"--state: {exc}") from None
    finally:
        fake.stop()
    print("Sandbox stopped.", file=out, flush=True)
    return 0


#: The name the sandbox registers its consumer under, and finds it by after a restart.
_CONSUMER_NAME = "flattr command line"


def _sandbox_consumer(fake: FakeFlattr, key: str | None, secret: str | None) -> Credentials:
    """The consumer the sandbox prints: the one from ``--state`` if any, else a new one.

    :raises CLIError: ``--consumer-key`` is in the state file with another secret.
    """
    from flattr.testing import Credentials

    ours = [c for c in fake.consumers if c.name == _CONSUMER_NAME]
    if key is not None and secret is not None:
        same = [c for c in fake.consumers if c.key == key]
        if same and same[0].secret == secret:
            return Credentials(key, secret)
        if same:
            raise CLIError(
                "--consumer-key: the --state file already has this consumer with another "
                "secret; give that secret, or another key",
                EXIT_USAGE,
            )
        try:
            return fake.add_consumer(key, secret, name=_CONSUMER_NAME)
        except ValueError as exc:
            raise CLIError(f"--consumer-key/--consumer-secret: {exc}", EXIT_USAGE) from None
    if ours:
        return Credentials(ours[0].key, ours[0].secret)
    return fake.add_consumer(name=_CONSUMER_NAME)
