"""Where the command's settings come from: options, environment, config file, stored token.

Every setting is looked up in the same order: the command-line option, then
its environment variable, then the profile's table in the config file
(``config.toml`` in the config directory). Commands that use a stored token
take the consumer key and the server from the token unless an option or
environment variable names them, and then the two must agree: a token is
only ever sent to the server that issued it, with the application it was
issued to.

.. code-block:: toml

    # ~/.config/flattr/config.toml
    [default]
    consumer_key = "..."
    consumer_secret = "..."        # only if you want it stored; keep the file mode 0600
    base_url = "https://api.flattr.com"
    token_store = "keyring"        # or "file" (the default)
    ca_certs = "/path/to/ca.pem"
    # API v2 (flattr login --api v2)
    client_id = "..."
    client_secret = "..."          # as for consumer_secret
    auth_url = "https://flattr.com"  # where the OAuth 2 pages are
    redirect_uri = "http://127.0.0.1:8713/callback"

For API v2, ``base_url`` is the API host (``/rest/v2`` is appended) and
``auth_url`` the host of the OAuth 2 pages. When ``auth_url`` is not set it is
``https://flattr.com`` for the real API host and ``base_url`` itself for any
other server (a :class:`~flattr.testing.FakeFlattr` serves both).
"""

from __future__ import annotations

import argparse
import os
import stat
import sys
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import platformdirs

from flattr import _catalog, _validate
from flattr._http import DEFAULT_TIMEOUT
from flattr._redact import mask
from flattr.errors import ValidationError
from flattr.tokenstore import (
    FileTokenStore,
    KeyringTokenStore,
    StoredToken,
    TokenStore,
    validate_profile,
)
from flattr.v2 import _catalog as _v2catalog

from ._errors import CLIError

__all__ = [
    "CONFIG_KEYS",
    "ENV_BASE_URL",
    "ENV_AUTH_URL",
    "ENV_CA_CERTS",
    "ENV_CLIENT_ID",
    "ENV_CLIENT_SECRET",
    "ENV_CONFIG_DIR",
    "ENV_CONSUMER_KEY",
    "ENV_CONSUMER_SECRET",
    "ENV_PROFILE",
    "ENV_REDIRECT_URI",
    "ENV_TIMEOUT",
    "ENV_TOKEN_STORE",
    "Settings",
    "config_dir",
]

ENV_CONFIG_DIR = "FLATTR_CONFIG_DIR"
ENV_PROFILE = "FLATTR_PROFILE"
ENV_BASE_URL = "FLATTR_BASE_URL"
ENV_CONSUMER_KEY = "FLATTR_CONSUMER_KEY"
ENV_CONSUMER_SECRET = "FLATTR_CONSUMER_SECRET"
ENV_TOKEN_STORE = "FLATTR_TOKEN_STORE"
ENV_CA_CERTS = "FLATTR_CA_CERTS"
ENV_TIMEOUT = "FLATTR_TIMEOUT"
ENV_CLIENT_ID = "FLATTR_CLIENT_ID"
ENV_CLIENT_SECRET = "FLATTR_CLIENT_SECRET"
ENV_AUTH_URL = "FLATTR_AUTH_URL"
ENV_REDIRECT_URI = "FLATTR_REDIRECT_URI"

#: The keys a profile's table in ``config.toml`` may hold.
CONFIG_KEYS = (
    "auth_url",
    "base_url",
    "ca_certs",
    "client_id",
    "client_secret",
    "consumer_key",
    "consumer_secret",
    "redirect_uri",
    "timeout",
    "token_store",
)
TOKEN_STORES = ("file", "keyring")


def config_dir(environ: Mapping[str, str] | None = None) -> Path:
    """The config directory: ``$FLATTR_CONFIG_DIR``, else the platform's user config dir.

    :param environ: the environment to read (``os.environ`` by default).
    :returns: e.g. ``~/.config/flattr`` on Linux.
    """
    env = os.environ if environ is None else environ
    chosen = env.get(ENV_CONFIG_DIR, "").strip()
    return Path(chosen) if chosen else Path(platformdirs.user_config_dir("flattr"))


@dataclass
class Settings:
    """The resolved view of options, environment and config file for one run.

    :param options: the parsed command line (options absent when not given).
    :param environ: the environment.
    :param stderr: where warnings go.
    """

    options: argparse.Namespace
    environ: Mapping[str, str] = field(default_factory=lambda: os.environ)
    stderr: TextIO = field(default_factory=lambda: sys.stderr)
    profile: str = field(init=False)
    config_dir: Path = field(init=False)
    config_path: Path = field(init=False)
    section: dict[str, Any] = field(init=False)
    _loaded: tuple[TokenStore, StoredToken] | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        self.config_dir = config_dir(self.environ)
        self.config_path = self.config_dir / "config.toml"
        profile = self._pick("profile", ENV_PROFILE) or "default"
        try:
            self.profile = validate_profile(profile)
        except ValidationError as exc:
            raise CLIError(f"--profile: {exc.message}", status=2) from None
        self.section = self._read_section()

    # -- the layers ---------------------------------------------------------

    def _pick(self, option: str, env: str) -> str | None:
        value = getattr(self.options, option, None)
        if value is not None:
            return str(value)
        from_env = self.environ.get(env, "").strip()
        return from_env or None

    def _read_section(self) -> dict[str, Any]:
        try:
            raw = self.config_path.read_bytes()
        except FileNotFoundError:
            return {}
        except OSError as exc:
            raise CLIError(f"cannot read {self.config_path}: {exc.strerror or exc}") from None
        try:
            document = tomllib.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise CLIError(
                f"{self.config_path} is not valid TOML ({exc}); fix it or move it away",
                status=2,
            ) from None
        section = document.get(self.profile, {})
        if not isinstance(section, dict):
            raise CLIError(
                f"{self.config_path}: [{self.profile}] must be a table of settings", status=2
            )
        unknown = sorted(set(section) - set(CONFIG_KEYS))
        if unknown:
            raise CLIError(
                f"{self.config_path}: [{self.profile}] has unknown setting(s) "
                f"{', '.join(unknown)}; allowed: {', '.join(CONFIG_KEYS)}",
                status=2,
            )
        for key, value in section.items():
            if key == "timeout" and isinstance(value, int | float) and not isinstance(value, bool):
                section[key] = str(value)
            elif not isinstance(value, str):
                raise CLIError(
                    f"{self.config_path}: [{self.profile}] {key} must be a string", status=2
                )
        if "consumer_secret" in section or "client_secret" in section:
            self._warn_if_readable()
        return dict(section)

    def _warn_if_readable(self) -> None:
        if os.name != "posix":
            return
        try:
            mode = stat.S_IMODE(self.config_path.stat().st_mode)
        except OSError:
            return
        if mode & 0o077:
            print(
                f"flattr: warning: {self.config_path} holds consumer_secret but has mode "
                f"{mode:04o}; run `chmod 600 {self.config_path}`",
                file=self.stderr,
            )

    def _setting(self, option: str, env: str, key: str) -> str | None:
        return self._pick(option, env) or self.section.get(key) or None

    # -- what commands ask for ----------------------------------------------

    @property
    def token_store_name(self) -> str:
        """``file`` or ``keyring``."""
        name = self._setting("token_store", ENV_TOKEN_STORE, "token_store") or "file"
        if name not in TOKEN_STORES:
            raise CLIError(
                f"unknown token store {name!r}; choose one of {', '.join(TOKEN_STORES)}", status=2
            )
        return name

    def store(self) -> TokenStore:
        """The token store this run uses."""
        if self.token_store_name == "keyring":
            return KeyringTokenStore()
        return FileTokenStore(self.config_dir / "tokens")

    @property
    def ca_certs(self) -> str | None:
        """A PEM bundle of extra CAs to trust, if one was given."""
        return self._setting("ca_certs", ENV_CA_CERTS, "ca_certs")

    @property
    def timeout(self) -> float:
        """Seconds to wait for the server (``--timeout``, ``FLATTR_TIMEOUT``, config, else 30).

        :raises CLIError: the value is not a number above 0.
        """
        option = getattr(self.options, "timeout", None)
        if option is not None:
            return float(option)
        text = self._setting("timeout", ENV_TIMEOUT, "timeout")
        if text is None:
            return DEFAULT_TIMEOUT
        try:
            value = float(text)
        except ValueError:
            value = 0.0
        if not 0 < value < float("inf"):
            raise CLIError(f"timeout: {text!r} is not a number of seconds above 0", status=2)
        return value

    def base_url(self, stored: StoredToken | None = None) -> str:
        """The server to talk to.

        For a command that uses a stored token, it is the server that issued
        the token unless ``--base-url``/``FLATTR_BASE_URL`` says otherwise,
        and then the two must agree.

        :raises CLIError: an explicit base URL differs from the token's.
        """
        explicit = self._pick("base_url", ENV_BASE_URL)
        if stored is None:
            chosen = explicit or self.section.get("base_url") or _catalog.DEFAULT_BASE_URL
            return self._checked_url(chosen)
        if explicit is None:
            return stored.base_url
        chosen = self._checked_url(explicit)
        api = " --api v2" if stored.api == "v2" else ""
        if chosen != stored.base_url:
            raise CLIError(
                f"the token of profile {self.profile!r} was issued by {stored.base_url}, not "
                f"{chosen}; log in there (flattr login{api} --base-url {chosen}) or use "
                "another --profile"
            )
        return chosen

    @staticmethod
    def _checked_url(value: str) -> str:
        try:
            return _validate.base_url(value)
        except ValidationError as exc:
            raise CLIError(f"--base-url: {exc.message}", status=2) from None

    def consumer(self, stored: StoredToken | None = None) -> tuple[str, str]:
        """The application's consumer key and secret.

        :param stored: the token in use, whose consumer key applies when none is given.
        :raises CLIError: the secret (or, without a token, the key) is not
            configured anywhere, or the key differs from the token's.
        """
        key = self._setting("consumer_key", ENV_CONSUMER_KEY, "consumer_key")
        if key is None and stored is not None:
            key = stored.consumer_key
        if key is None:
            raise CLIError(self._missing("consumer key", "consumer-key", ENV_CONSUMER_KEY), 2)
        if stored is not None and key != stored.consumer_key:
            raise CLIError(
                f"the token of profile {self.profile!r} belongs to consumer key "
                f"{mask(stored.consumer_key)!r}, not {mask(key)!r}; use that application's "
                "key and secret, or log in again with this one"
            )
        secret = self._setting("consumer_secret", ENV_CONSUMER_SECRET, "consumer_secret")
        if secret is None:
            raise CLIError(
                self._missing("consumer secret", "consumer-secret", ENV_CONSUMER_SECRET), 2
            )
        try:
            return (
                _validate.credential("consumer_key", key),
                _validate.credential("consumer_secret", secret),
            )
        except ValidationError as exc:
            raise CLIError(f"{exc.field.replace('_', ' ')}: {exc.message}", status=2) from None

    def auth_url(self, base_url: str) -> str:
        """Where the v2 OAuth pages are, for the API host ``base_url``.

        ``--auth-url``, ``FLATTR_AUTH_URL`` or config ``auth_url``; else
        ``https://flattr.com`` for the real API host, and ``base_url`` itself
        for any other server (a sandbox serves both).
        """
        chosen = self._setting("auth_url", ENV_AUTH_URL, "auth_url")
        if chosen is None:
            chosen = _v2catalog.AUTH_BASE_URL if base_url == _v2catalog.API_BASE_URL else base_url
        try:
            return _validate.base_url(chosen)
        except ValidationError as exc:
            raise CLIError(f"--auth-url: {exc.message}", status=2) from None

    @property
    def redirect_uri(self) -> str | None:
        """The v2 application's registered loopback callback, if one was given."""
        return self._setting("redirect_uri", ENV_REDIRECT_URI, "redirect_uri")

    def client(self) -> tuple[str, str]:
        """The v2 application's OAuth 2 client id and secret.

        :raises CLIError: either is not configured anywhere.
        """
        client_id = self._setting("client_id", ENV_CLIENT_ID, "client_id")
        if client_id is None:
            raise CLIError(self._missing("client id", "client-id", ENV_CLIENT_ID), 2)
        secret = self._setting("client_secret", ENV_CLIENT_SECRET, "client_secret")
        if secret is None:
            raise CLIError(self._missing("client secret", "client-secret", ENV_CLIENT_SECRET), 2)
        try:
            return (
                _validate.credential("client_id", client_id),
                _validate.credential("client_secret", secret),
            )
        except ValidationError as exc:
            raise CLIError(f"{exc.field.replace('_', ' ')}: {exc.message}", status=2) from None

    def _missing(self, what: str, option: str, env: str) -> str:
        return (
            f"no {what} for profile {self.profile!r}: pass --{option}, set {env}, or add "
            f"{option.replace('-', '_')} to [{self.profile}] in {self.config_path}"
        )

    def load_token(self) -> tuple[TokenStore, StoredToken]:
        """The stored token of this profile.

        :raises CLIError: nobody is logged in under this profile.
        """
        if self._loaded is not None:
            return self._loaded
        store = self.store()
        record = store.load(self.profile)
        if record is None:
            login = "flattr login" + (
                "" if self.profile == "default" else f" --profile {self.profile}"
            )
            raise CLIError(
                f"not logged in: no token for profile {self.profile!r} in the "
                f"{self.token_store_name} store ({store.describe(self.profile)}); "
                f"run `{login}` first"
            )
        self._loaded = (store, record)
        return self._loaded
