"""The guided tour behind ``flattr demo``: the whole flow against an embedded FakeFlattr.

No account and no network: a :class:`~flattr.testing.FakeFlattr` runs on
127.0.0.1 for the length of the tour, and every step below is a real signed
HTTP request to it.
"""

from __future__ import annotations

from typing import TextIO

from flattr.auth import FlattrAuth
from flattr.client import FlattrClient

from ._registry import Context, command

__all__ = ["run_demo"]


@command(
    "demo",
    "walk through the OAuth flow and first calls against an embedded fake server",
    "Start a fake Flattr server on 127.0.0.1 and walk the whole flow.",
    common=False,
    examples=("flattr demo", "python3 -m flattr demo"),
)
def demo(ctx: Context) -> int:
    """Run ``flattr demo``."""
    return run_demo(ctx.out)


def run_demo(out: TextIO) -> int:
    """Walk a new user through the OAuth flow and the first API calls.

    :param out: where to print the tour.
    :returns: the exit status (0).
    """
    from flattr.testing import FakeFlattr

    def say(text: str = "") -> None:
        print(text, file=out, flush=True)

    def step(number: int, title: str) -> None:
        say()
        say(f"{number}. {title}")

    with FakeFlattr() as fake:
        callback = "http://127.0.0.1:8000/flattr/callback"
        say(f"A fake Flattr server is running at {fake.base_url} (loopback only).")
        say(f"It knows one application (consumer key {fake.consumer.key[:6]}…) and one user,")
        say(f"{fake.user.username!r}, who is signed in to its consent page.")

        auth = FlattrAuth(fake.consumer.key, fake.consumer.secret, callback, base_url=fake.base_url)
        step(1, "Ask for a request token (signed with the consumer key, sending oauth_callback)")
        request_token = auth.fetch_request_token()
        say(f"   got {request_token!r}")
        say("   Keep it until the callback, e.g. in the user's session: RequestToken.to_dict().")

        step(2, "Send the user to Flattr to approve the application")
        url = auth.authorize_url(request_token, scopes=("read", "publish"))
        say(f"   {url}")
        consent = fake.consent(url, allow=True)
        redirect = consent.redirect_url or ""
        say("   The user clicks Allow; Flattr redirects the browser to the callback:")
        say(f"   {redirect.split('oauth_verifier=')[0]}oauth_verifier=…")

        step(3, "Read the verifier from the callback URL (checking it is our request token)")
        verifier = auth.parse_callback(redirect, request_token)
        say(f"   the verifier has {len(verifier)} characters (it is a secret, so not shown)")

        step(4, "Exchange the approved request token for an access token")
        access_token = auth.fetch_access_token(request_token, verifier)
        say(f"   got {access_token!r}; store AccessToken.to_dict() for good (mode 0600)")

        step(5, "Call the API as the user")
        with FlattrClient(
            fake.consumer.key, fake.consumer.secret, access_token, base_url=fake.base_url
        ) as client:
            me = client.me()
            say(f"   client.me() -> {me.username} (id {me.id}), {me.thingcount} things")
            thing = client.register_thing(
                url="http://blog.example.org/2010/10/hello-flattr",
                title="Hello, Flattr",
                category="text",
                description="The first post of a blog that can be flattred post by post.",
                language="en_GB",
                tags=("hello", "demo"),
            )
            say(f"   client.register_thing(...) -> {thing.title!r}, id {thing.id}")
            say(f"   client.things() -> {len(client.things())} thing(s) owned by {me.username}")

        say()
        say("Done. Point base_url at a real deployment to do the same for real;")
        say("`flattr sandbox` keeps a fake server running for your own experiments.")
    return 0
