"""Turning failures into one plain line on stderr that says what to do, and an exit status.

What to do was decided where the failure was understood (each exception's
:class:`~flattr.errors.Advice`, set in :mod:`flattr._responses`, the seam or the
error class); here one table turns each kind of advice into the words and
command lines of the ``flattr`` command.

Exit statuses: 0 success, 1 a failure (server, network, token, ...), 2 a
usage error (bad option or field value, missing setting), 130 interrupted.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from flattr.errors import (
    Advice,
    APIError,
    FlattrError,
    ForbiddenError,
    OAuthError,
    RegistrationError,
    ResponseError,
    TokenStoreError,
)

if TYPE_CHECKING:
    from ._registry import Command, Context

__all__ = [
    "EXIT_FAILURE",
    "EXIT_INTERRUPTED",
    "EXIT_USAGE",
    "CLIError",
    "describe",
    "describe_for",
    "login_command",
]

EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


class CLIError(Exception):
    """A failure the command explains itself; ``status`` is the exit status.

    :param message: one line saying what went wrong and what to do.
    :param status: the exit status (1 by default, 2 for usage errors).
    """

    def __init__(self, message: str, status: int = EXIT_FAILURE) -> None:
        super().__init__(message)
        self.status = status


def login_command(profile: str, scopes: Iterable[str] = (), *, api: str = "0.0.1") -> str:
    """The ``flattr login`` line for a profile, asking for ``scopes`` when given.

    :param api: the API generation to log in to (``"v2"`` adds ``--api v2``).
    """
    parts = ["flattr login"]
    if api == "v2":
        parts.append("--api v2")
    if profile != "default":
        parts.append(f"--profile {profile}")
    wanted = list(dict.fromkeys(scopes))  # the order given, each once
    if wanted:
        parts.append(f"--scope {','.join(wanted)}")
    return " ".join(parts)


#: A command's scope (0.0.1 names) as API v2 calls it; ``read`` needs none there.
_V2_SCOPES: dict[str, str | None] = {"read": None, "click": "flattr", "publish": "thing"}


@dataclass(frozen=True, slots=True)
class _Situation:
    profile: str
    scope: str | None
    stored_scopes: tuple[str, ...]
    api: str = "0.0.1"

    def login(self, scopes: Iterable[str] = ()) -> str:
        return login_command(self.profile, scopes, api=self.api)


def _said(exc: FlattrError) -> str:
    """What the server said, without the library's own hint (the CLI words it)."""
    if isinstance(exc, APIError):
        where = f"{exc.method} {exc.path}: " if exc.method or exc.path else ""
        return f"{where}{exc.status} {exc.message}".rstrip()
    return str(exc)


def _authorize_again(exc: FlattrError, at: _Situation) -> str:
    login = at.login()
    if isinstance(exc, OAuthError) and exc.problem in ("denied", "access_denied"):
        return f"{exc}; run `{login}` again and choose Allow"
    if isinstance(exc, OAuthError):
        return f"{exc} (OAuth problem: {exc.problem}); run `{login}` again"
    return (
        f"{_said(exc)}. The token was not accepted (unknown, revoked or expired): "
        f"run `{login}` again"
    )


def _check_consumer(exc: FlattrError, at: _Situation) -> str:
    where = (
        "The application's client id and secret come from --client-id/--client-secret, "
        "FLATTR_CLIENT_ID/FLATTR_CLIENT_SECRET or config.toml"
        if at.api == "v2"
        else "The application's key and secret come from --consumer-key/--consumer-secret, "
        "FLATTR_CONSUMER_KEY/FLATTR_CONSUMER_SECRET or config.toml"
    )
    if isinstance(exc, OAuthError):
        return f"{exc} (OAuth problem: {exc.problem}). {where}"
    # With a stored token, a bad signature may come from either secret.
    return (
        f"{_said(exc)}. The consumer key/secret or the access token was not accepted: "
        f"check the consumer secret, or run `{at.login()}` again. {where}"
    )


def _add_scope(exc: FlattrError, at: _Situation) -> str:
    scope = at.scope
    if at.api == "v2" and scope is not None:
        scope = _V2_SCOPES.get(scope, scope)
    needed = (exc.missing_scope if isinstance(exc, ForbiddenError) else None) or scope
    if needed is None:
        return f"{exc}"
    if needed in at.stored_scopes:
        # The token has it: the refusal has another cause, so no login is suggested.
        return f"{_said(exc)}. The token already has the {needed} scope, so that is not the cause"
    if at.stored_scopes or at.api == "v2":
        scopes: tuple[str, ...] = (*at.stored_scopes, needed)
    else:
        scopes = ("read", needed)
    return f"{_said(exc)}. Log in again with the {needed} scope: `{at.login(scopes)}`"


def _wait(exc: FlattrError, at: _Situation) -> str:
    delay = exc.retry_after if isinstance(exc, APIError) else None
    when = f" (at least {delay:.0f} s)" if delay is not None else ""
    return (
        f"{_said(exc)}. Flattr limits how often a token may call it: "
        f"wait{when} and run the command again"
    )


def _look_up_result(exc: FlattrError, at: _Situation) -> str:
    text = f"{exc}. Check the result before trying again"
    if at.scope in ("publish", "thing"):
        text += " (`flattr thing find-url URL`)"
    return text


def _already_registered(exc: FlattrError, at: _Situation) -> str:
    return (
        f"the server refused to register the thing ({_said(exc)}); the URL is already "
        "registered: `flattr thing find-url URL` shows it"
    )


def _try_again(exc: FlattrError, at: _Situation) -> str:
    if isinstance(exc, RegistrationError):
        return (
            f"the server refused to register the thing ({_said(exc)}); its fields pass "
            "every documented check, so run the command again later, and check them if it "
            "keeps refusing"
        )
    return f"{exc}. Run the command again later"


def _check_server(exc: FlattrError, at: _Situation) -> str:
    if isinstance(exc, APIError | OAuthError):
        return f"{exc}; --base-url or FLATTR_BASE_URL chooses the server"
    if isinstance(exc, ResponseError):
        return f"{exc}; is --base-url (or FLATTR_BASE_URL) the root of a Flattr API?"
    return f"{exc}. Is the server running? --base-url or FLATTR_BASE_URL chooses it"


#: What the command says for each kind of advice.
_WORDS: dict[Advice, Callable[[FlattrError, _Situation], str]] = {
    Advice.AUTHORIZE_AGAIN: _authorize_again,
    Advice.CHECK_CONSUMER: _check_consumer,
    Advice.ADD_SCOPE: _add_scope,
    Advice.CHECK_CLOCK: lambda exc, at: str(exc),
    Advice.WAIT: _wait,
    Advice.TRY_AGAIN: _try_again,
    Advice.NOT_ALLOWED: lambda exc, at: str(exc),
    Advice.LOOK_UP_RESULT: _look_up_result,
    Advice.ALREADY_REGISTERED: _already_registered,
    Advice.CHECK_INPUT: lambda exc, at: str(exc),
    Advice.CHECK_ID: lambda exc, at: f"{_said(exc)}; check the id or name",
    Advice.TRUST_CA: lambda exc, at: f"{exc} (the command takes --ca-certs or FLATTR_CA_CERTS)",
    Advice.CHECK_SERVER: _check_server,
    Advice.CHECK_FEED: lambda exc, at: str(exc),
}


def _token_store(exc: TokenStoreError, profile: str) -> str:
    text = str(exc)
    if exc.reason in ("damaged", "insecure"):
        logout = "flattr logout" + ("" if profile == "default" else f" --profile {profile}")
        text += f" (`{logout}` removes it)"
    elif exc.reason == "unavailable":
        text += " (--token-store file keeps tokens in private files instead)"
    return text


def describe(
    exc: FlattrError,
    *,
    profile: str = "default",
    scope: str | None = None,
    stored_scopes: Iterable[str] = (),
    api: str = "0.0.1",
) -> tuple[str, int]:
    """One line for ``exc`` that says what to do, and the exit status.

    :param exc: the failure.
    :param profile: the profile in use, for the commands suggested.
    :param scope: the scope the failed command needs (``click``, ``publish``), if any.
    :param stored_scopes: the scopes of the profile's stored token, so a suggested
        login keeps them.
    :param api: the profile's API generation (``"0.0.1"`` or ``"v2"``), so a
        suggested login names it and its scopes.
    :returns: ``(message, exit status)``.
    """
    status = (
        EXIT_USAGE
        if exc.advice is Advice.CHECK_INPUT and not isinstance(exc, APIError)
        else EXIT_FAILURE
    )
    if isinstance(exc, TokenStoreError):
        text = _token_store(exc, profile)
    elif exc.advice is None:
        text = (
            _authorize_again(exc, _Situation(profile, scope, (), api))
            if isinstance(exc, OAuthError)
            else str(exc)
        )
    else:
        text = _WORDS[exc.advice](exc, _Situation(profile, scope, tuple(stored_scopes), api))
    return " ".join(text.split()), status


def describe_for(exc: CLIError | FlattrError, ctx: Context, cmd: Command) -> tuple[str, int]:
    """:func:`describe` for a failure of the command ``cmd``, with what ``ctx`` knows."""
    if isinstance(exc, CLIError):
        return " ".join(str(exc).split()), exc.status
    profile = "default"
    stored: tuple[str, ...] = ()
    api = str(getattr(ctx.args, "api", None) or "0.0.1")  # flattr login --api v2
    try:
        settings = ctx.settings
        profile = settings.profile
        record = settings.store().load(profile) if cmd.name != "login" else None
        if record is not None:
            stored, api = record.scopes, record.api
    except (CLIError, FlattrError):
        pass  # the advice then keeps to what the failure itself says
    return describe(exc, profile=profile, scope=cmd.scope, stored_scopes=stored, api=api)
