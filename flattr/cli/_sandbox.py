"""``flattr sandbox``: a FakeFlattr to try the command (or your code) against, until Ctrl-C."""

from __future__ import annotations

import argparse
import shlex
import threading
from typing import TextIO

from flattr.testing import FakeFlattr

from ._errors import EXIT_USAGE, CLIError

__all__ = ["run_sandbox"]

#: Requests the fake remembers are dropped this often (seconds), so a
#: sandbox left running for days does not grow without bound.
_FORGET_EVERY = 60.0


def run_sandbox(args: argparse.Namespace, out: TextIO, stop: threading.Event | None = None) -> int:
    """Run ``flattr sandbox`` until Ctrl-C (or until ``stop`` is set).

    :param args: ``port``, ``consumer_key``, ``consumer_secret``, ``empty``.
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
    fake = FakeFlattr(port=args.port)
    try:
        fake.start()
    except OSError as exc:
        raise CLIError(
            f"cannot listen on 127.0.0.1:{args.port} ({exc.strerror or exc}); choose another "
            "--port, or --port 0 for any free one"
        ) from None
    try:
        if key is not None and secret is not None:
            try:
                consumer = fake.add_consumer(key, secret, name="flattr command line")
            except ValueError as exc:
                raise CLIError(f"--consumer-key/--consumer-secret: {exc}", EXIT_USAGE) from None
        else:
            consumer = fake.add_consumer(name="flattr command line")
        if not args.empty:
            fake.seed_demo()
        users = ", ".join(u.username for u in fake.users)
        exports = [
            ("FLATTR_BASE_URL", fake.base_url),
            ("FLATTR_CONSUMER_KEY", consumer.key),
            ("FLATTR_CONSUMER_SECRET", consumer.secret),
            ("FLATTR_PROFILE", "sandbox"),
        ]
        lines = [
            f"FakeFlattr sandbox running at {fake.base_url} (127.0.0.1 only).",
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
            "Everything is forgotten when the sandbox stops. Press Ctrl-C to stop it.",
        ]
        print("\n".join(lines), file=out, flush=True)
        event = stop or threading.Event()
        while not event.wait(_FORGET_EVERY):
            fake.clear_requests()
    except KeyboardInterrupt:
        pass  # Ctrl-C is how a sandbox ends, whenever it comes
    finally:
        fake.stop()
    print("Sandbox stopped.", file=out, flush=True)
    return 0
