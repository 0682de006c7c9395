"""Turning failures into one plain line on stderr that says what to do, and an exit status.

Exit statuses: 0 success, 1 a failure (server, network, token, ...), 2 a
usage error (bad option or field value, missing setting), 130 interrupted.
"""

from __future__ import annotations

from flattr.errors import (
    APIError,
    AuthenticationError,
    FlattrError,
    ForbiddenError,
    NotFoundError,
    OAuthError,
    RegistrationError,
    ResponseError,
    TLSError,
    TransportError,
    UncertainResultError,
    ValidationError,
)
from flattr.tokenstore import TokenStoreError

__all__ = ["EXIT_FAILURE", "EXIT_INTERRUPTED", "EXIT_USAGE", "CLIError", "describe"]

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


#: OAuth problems that mean the consumer key or secret is wrong, not the user's token.
_CONSUMER_PROBLEMS = frozenset(
    {
        "consumer_key_unknown",
        "consumer_key_rejected",
        "consumer_key_refused",
        "signature_invalid",
        "signature_method_rejected",
    }
)


def _login_command(profile: str, scope: str | None = None) -> str:
    parts = ["flattr login"]
    if profile != "default":
        parts.append(f"--profile {profile}")
    if scope:
        parts.append(f"--scope {scope}")
    return " ".join(parts)


def _api_prefix(exc: APIError) -> str:
    where = f"{exc.method} {exc.path}: " if exc.method or exc.path else ""
    return f"{where}{exc.status} {exc.message}".rstrip()


def describe(
    exc: FlattrError, *, profile: str = "default", scope: str | None = None
) -> tuple[str, int]:
    """One line for ``exc`` that says what to do, and the exit status.

    :param exc: the failure.
    :param profile: the profile in use, for the commands suggested.
    :param scope: the scope the failed command needs (``click``, ``publish``), if any.
    :returns: ``(message, exit status)``.
    """
    status = EXIT_FAILURE
    if isinstance(exc, ValidationError):
        text, status = str(exc), EXIT_USAGE
    elif isinstance(exc, TokenStoreError):
        text = str(exc)
        if exc.reason in ("damaged", "insecure"):
            logout = "flattr logout" + ("" if profile == "default" else f" --profile {profile}")
            text += f" (`{logout}` removes it)"
        elif exc.reason == "unavailable":
            text += " (--token-store file keeps tokens in private files instead)"
    elif isinstance(exc, RegistrationError):
        text = f"the server refused to register the thing ({_api_prefix(exc)})"
        text += (
            "; the URL is already registered: `flattr thing find-url URL` shows it"
            if exc.duplicate
            else "; check the fields and try again"
        )
    elif isinstance(exc, AuthenticationError):
        text = (
            f"{_api_prefix(exc)}. The consumer key/secret or the access token was not "
            f"accepted: check the consumer secret, or run `{_login_command(profile)}` again"
        )
    elif isinstance(exc, ForbiddenError):
        text = f"{_api_prefix(exc)}."
        if scope:
            text += (
                f" If the token lacks the {scope} scope, log in again with it: "
                f"`{_login_command(profile, f'read,{scope}')}`"
            )
    elif isinstance(exc, NotFoundError):
        text = f"{_api_prefix(exc)}; check the id or name"
    elif isinstance(exc, APIError):
        text = str(exc)
    elif isinstance(exc, UncertainResultError):
        text = f"{exc}. Check the result before trying again"
        if scope == "publish":
            text += " (`flattr thing find-url URL`)"
    elif isinstance(exc, TLSError):
        text = f"{exc} (the command takes --ca-certs or FLATTR_CA_CERTS)"
    elif isinstance(exc, TransportError):
        text = f"{exc}. Is the server running? --base-url or FLATTR_BASE_URL chooses it"
    elif isinstance(exc, OAuthError):
        if exc.problem == "denied":
            text = f"{exc}; run `{_login_command(profile)}` again and choose Allow"
        elif exc.problem in _CONSUMER_PROBLEMS:
            text = (
                f"{exc} (OAuth problem: {exc.problem}). The application's key and secret come "
                "from --consumer-key/--consumer-secret, FLATTR_CONSUMER_KEY/FLATTR_CONSUMER_SECRET "
                "or config.toml"
            )
        else:
            text = f"{exc} (OAuth problem: {exc.problem}); run `{_login_command(profile)}` again"
    elif isinstance(exc, ResponseError):
        text = f"{exc}; is --base-url (or FLATTR_BASE_URL) the root of a Flattr API?"
    else:
        text = str(exc)
    return " ".join(text.split()), status
