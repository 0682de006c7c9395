"""Keep users' access tokens between runs: in private JSON files or in the system keyring.

An access token is as good as a password for the user's Flattr account, so
the stores here take care of the usual ways of leaking or losing one:

- :class:`FileTokenStore` writes one JSON file per profile, created with mode
  ``0600`` from the first byte (never a moment world-readable), written to a
  temporary file and moved into place with :func:`os.replace` (a crash leaves
  the old file or the new one, never half of each). The temporary file is
  removed on every exit path Python sees (errors, Ctrl-C); one left behind by
  a process that was killed outright is removed by the next save or delete.
  Directories it creates get mode ``0700``; it refuses to write into a token
  directory that other users can write to. It refuses to read a
  file that other users can read or that another user owns, and it never
  silently replaces a file it cannot parse.
- :class:`KeyringTokenStore` keeps the same record in the operating system's
  keyring (macOS Keychain, Windows Credential Locker, Secret Service) with the
  optional ``keyring`` package (``pip install 'flattr[keyring]'``).

Neither store ever holds the consumer secret: only the public consumer key,
so that a token is not used with another application by mistake.

A record says which API generation its token is for (``StoredToken.api``:
``"0.0.1"``, an OAuth 1.0a token, or ``"v2"``, an OAuth 2 bearer token with
the application's client id in ``consumer_key``). Records written before v2
have no ``api`` and read as ``"0.0.1"``; the format version is unchanged.

>>> import tempfile
>>> from flattr import AccessToken
>>> from flattr.tokenstore import FileTokenStore, StoredToken
>>> with tempfile.TemporaryDirectory() as directory:
...     store = FileTokenStore(directory)
...     store.save("default", StoredToken(
...         token=AccessToken("abcdef123456", "s3cr3t"),
...         consumer_key="my-consumer-key",
...         base_url="https://api.flattr.com",
...         scopes=("read", "publish"),
...     ))
...     print(store.load("default").token, store.profiles(), oct(store.path().stat().st_mode))
...     print(store.delete("default"), store.load("default"))
AccessToken(key='abcd…') ('default',) 0o100600
True None
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import stat
import time
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from flattr import _validate
from flattr.errors import TokenStoreError, ValidationError
from flattr.models import AccessToken
from flattr.v2._auth import scope_names
from flattr.v2._models import AccessToken as V2AccessToken

__all__ = [
    "APIS",
    "API_V1",
    "API_V2",
    "FORMAT_VERSION",
    "FileTokenStore",
    "KeyringTokenStore",
    "StoredToken",
    "TokenStore",
    "TokenStoreError",
    "TokenStoreWarning",
    "validate_profile",
]

#: The version number written into every stored record.
FORMAT_VERSION = 1
#: The API generations a stored token may be for.
API_V1 = "0.0.1"
API_V2 = "v2"
APIS = (API_V1, API_V2)
_FORMAT_NAME = "flattr-access-token"
_PROFILE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}")
#: Bits that must be clear on a token file: no access for group or others.
_PRIVATE_MASK = 0o077
#: Refuse to read token files larger than this (a token record is ~400 bytes).
_MAX_FILE_BYTES = 64 * 1024
#: Temporary files are ``.<profile>.json.<pid>.<random>.flattr-tmp``: the
#: suffix says they are ours, the pid whether their writer may still be at work.
_TEMP_SUFFIX = ".flattr-tmp"
_TEMP_NAME = re.compile(
    r"\.(?P<profile>[A-Za-z0-9_][A-Za-z0-9_.-]{0,63})\.json\.(?P<pid>[0-9]{1,10})\.[0-9a-f]{12}"
    + re.escape(_TEMP_SUFFIX)
)
#: A temporary file older than this is stale even if its pid is alive (the pid
#: may have been reused, or the directory is shared with another machine).
_STALE_AFTER_SECONDS = 600.0
#: How many directory entries a clean-up looks at, at most.
_MAX_SCAN_ENTRIES = 10_000
#: Directory permission bits that let other users add, remove or rename files.
_WRITABLE_BY_OTHERS = 0o022


class TokenStoreWarning(UserWarning):
    """A token directory is usable but more open than it should be; the message says the fix.

    A warning, not an error (so not a :class:`~flattr.FlattrError`): the
    token files themselves stay private.
    """


def validate_profile(name: object) -> str:
    """Check a profile name: 1 to 64 letters, digits, ``_``, ``.`` or ``-``.

    Profile names become file names, so nothing else is allowed, and the
    first character must not be ``.`` or ``-``.

    :param name: the proposed name.
    :returns: the name unchanged.
    :raises ValidationError: (``field="profile"``) for anything else.
    """
    if not isinstance(name, str) or not _PROFILE.fullmatch(name):
        raise ValidationError(
            "profile",
            f"{name!r} is not a profile name; use 1 to 64 letters, digits, '_', '.' or '-', "
            "starting with a letter, digit or '_'",
        )
    return name


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredToken:
    """An access token together with what it is good for.

    :param token: the user's access token (its secret is never shown by ``repr``).
    :param consumer_key: the public key of the application the token was issued to.
    :param base_url: the server that issued it (a token is useless anywhere else).
    :param scopes: the scopes asked for when it was issued.
    :param username: the user it belongs to, when known.
    :param created: when it was stored (UTC); now by default.
    :param api: the API generation the token is for: ``"0.0.1"`` (an OAuth 1.0a
        :class:`~flattr.AccessToken`; ``consumer_key`` is the consumer key) or
        ``"v2"`` (a :class:`flattr.v2.AccessToken`; ``consumer_key`` holds the
        OAuth 2 client id). Records written before v2 existed read as ``"0.0.1"``.
    """

    token: AccessToken | V2AccessToken
    consumer_key: str
    base_url: str
    scopes: tuple[str, ...] = ("read",)
    username: str | None = None
    created: datetime = field(default_factory=lambda: datetime.now(UTC).replace(microsecond=0))
    api: str = API_V1

    def __post_init__(self) -> None:
        if self.api not in APIS:
            raise ValidationError("api", f"must be one of {', '.join(APIS)}, not {self.api!r}")
        expected = V2AccessToken if self.api == API_V2 else AccessToken
        if not isinstance(self.token, expected):
            raise ValidationError(
                "token", f"an API {self.api} record holds a {expected.__module__}.AccessToken"
            )

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable dict holding the token secret: keep it private.

        :returns: the record in the stored format (with ``format`` and ``version``).
        """
        return {
            "format": _FORMAT_NAME,
            "version": FORMAT_VERSION,
            "base_url": self.base_url,
            "consumer_key": self.consumer_key,
            "token": self.token.to_dict(),
            "scopes": list(self.scopes),
            "username": self.username,
            "created": self.created.isoformat(),
            "api": self.api,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> StoredToken:
        """Rebuild a record from :meth:`to_dict` output.

        :param data: a parsed record.
        :returns: the record.
        :raises ValidationError: a field is missing or malformed (``.field`` names it).
        """
        if not isinstance(data, Mapping):
            raise ValidationError("record", "a stored token must be a JSON object")
        if data.get("format") != _FORMAT_NAME:
            raise ValidationError("format", f"is not {_FORMAT_NAME!r}")
        version = data.get("version")
        if version != FORMAT_VERSION:
            raise ValidationError(
                "version", f"{version!r} is not supported (this flattr reads {FORMAT_VERSION})"
            )
        api = data.get("api", API_V1)
        if api not in APIS:
            raise ValidationError("api", f"must be one of {', '.join(APIS)}, not {api!r}")
        token_data = data.get("token")
        if not isinstance(token_data, Mapping):
            raise ValidationError("token", "must be an object with 'key' and 'secret'")
        token: AccessToken | V2AccessToken = (
            V2AccessToken.from_dict(token_data)
            if api == API_V2
            else AccessToken.from_dict(token_data)
        )
        scopes = data.get("scopes", ["read"] if api == API_V1 else [])
        if not isinstance(scopes, list) or not all(isinstance(s, str) for s in scopes):
            raise ValidationError("scopes", "must be a list of scope names")
        username = data.get("username")
        if username is not None and not isinstance(username, str):
            raise ValidationError("username", "must be a string or null")
        created_text = data.get("created")
        try:
            created = datetime.fromisoformat(created_text) if created_text else None
        except (TypeError, ValueError):
            created = None
        if created is None:
            raise ValidationError("created", "must be an ISO 8601 date and time")
        return cls(
            token=token,
            consumer_key=_validate.credential("consumer_key", data.get("consumer_key")),
            # Where the token came from; whether to talk to it is the client's decision.
            base_url=_validate.base_url(data.get("base_url"), allow_cleartext_http=True),
            scopes=_validate.scopes(scopes) if api == API_V1 else scope_names(scopes),
            username=username,
            created=created,
            api=api,
        )


@runtime_checkable
class TokenStore(Protocol):
    """What every token store offers: load, save and delete a profile's token."""

    def load(self, profile: str = "default") -> StoredToken | None:
        """The token stored under ``profile``, or ``None`` when there is none.

        :raises TokenStoreError: it exists but cannot be read or trusted.
        """
        ...

    def save(self, profile: str, record: StoredToken) -> None:
        """Store ``record`` under ``profile``, replacing a valid earlier one.

        :raises TokenStoreError: it cannot be written, or what is stored there
            now is unreadable (it is never overwritten silently).
        """
        ...

    def delete(self, profile: str = "default") -> bool:
        """Forget the token stored under ``profile``, even an unreadable one.

        :returns: whether there was anything to delete.
        :raises TokenStoreError: it cannot be deleted.
        """
        ...

    def describe(self, profile: str = "default") -> str:
        """Where ``profile``'s token lives, for messages (a path or keyring entry)."""
        ...


def _parse_record(text: str | bytes, where: str) -> StoredToken:
    hint = f"repair or remove {where} and log in again"
    try:
        data = json.loads(text)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise TokenStoreError(
            f"the stored token is not valid JSON ({exc.__class__.__name__}: {exc}); {hint}",
            location=where,
            reason="damaged",
        ) from None
    try:
        return StoredToken.from_dict(data)
    except ValidationError as exc:
        raise TokenStoreError(
            f"the stored token is incomplete or damaged ({exc}); {hint}",
            location=where,
            reason="damaged",
        ) from None


def _is_posix() -> bool:
    return os.name == "posix"


def _is_stale(pid: int, mtime: float, now: float) -> bool:
    """Whether a temporary file's writer is gone (or the file is too old to be in use)."""
    if now - mtime > _STALE_AFTER_SECONDS:
        return True
    if pid == os.getpid():
        return False  # another thread of ours may be writing it; its finally removes it
    if not _is_posix():
        return False  # os.kill(pid, 0) would terminate the process on Windows: age only
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except (OSError, OverflowError, ValueError):
        return False  # alive but not ours to signal, or unknowable: leave it
    return False


class FileTokenStore:
    """Tokens in JSON files, one per profile: ``<directory>/<profile>.json``, mode ``0600``.

    :param directory: where the files live; created (with any missing
        parents) with mode ``0700`` on the first save. Saving refuses a
        directory that other users can write to or that another user owns,
        and warns (:class:`TokenStoreWarning`) about one they can list. The
        ``flattr`` command uses ``tokens/`` inside the user's config directory
        (``platformdirs.user_config_dir("flattr")``).
    """

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.directory = Path(directory)

    def __repr__(self) -> str:
        return f"FileTokenStore({str(self.directory)!r})"

    def path(self, profile: str = "default") -> Path:
        """The file that holds ``profile``'s token.

        :raises ValidationError: for an invalid profile name.
        """
        return self.directory / f"{validate_profile(profile)}.json"

    def describe(self, profile: str = "default") -> str:
        """The path of ``profile``'s token file, as text."""
        return str(self.path(profile))

    def profiles(self) -> tuple[str, ...]:
        """The profiles that have a token file, sorted (their contents are not checked)."""
        if not self.directory.is_dir():
            return ()
        names = (p.stem for p in self.directory.glob("*.json") if p.is_file())
        return tuple(sorted(n for n in names if _PROFILE.fullmatch(n)))

    def load(self, profile: str = "default") -> StoredToken | None:
        """Read ``profile``'s token.

        :returns: the record, or ``None`` when there is no file.
        :raises TokenStoreError: the file is readable by others (mode wider than
            ``0600``) or owned by another user, is a symlink, is damaged or
            cannot be read.
        """
        path = self.path(profile)
        flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)
        try:
            fd = os.open(path, flags)
        except FileNotFoundError:
            return None
        except OSError as exc:
            symlink = path.is_symlink()
            raise TokenStoreError(
                f"cannot open the token file {path}: {exc.strerror or exc}"
                + (" (it must not be a symlink)" if symlink else ""),
                location=str(path),
                reason="insecure" if symlink else "io",
            ) from None
        with os.fdopen(fd, "rb") as handle:
            info = os.fstat(handle.fileno())
            self._check_private(path, info)
            if info.st_size > _MAX_FILE_BYTES:
                raise TokenStoreError(
                    f"the token file {path} is {info.st_size} bytes, far too large for a token; "
                    "remove it and log in again",
                    location=str(path),
                    reason="damaged",
                )
            data = handle.read(_MAX_FILE_BYTES + 1)
        return _parse_record(data, str(path))

    @staticmethod
    def _check_private(path: Path, info: os.stat_result) -> None:
        if not stat.S_ISREG(info.st_mode):
            raise TokenStoreError(
                f"{path} is not a regular file", location=str(path), reason="damaged"
            )
        if not _is_posix():
            return
        if info.st_uid != os.getuid():
            raise TokenStoreError(
                f"the token file {path} belongs to another user (uid {info.st_uid}); "
                "refusing to use it",
                location=str(path),
                reason="insecure",
            )
        if info.st_mode & _PRIVATE_MASK:
            mode = stat.S_IMODE(info.st_mode)
            raise TokenStoreError(
                f"the token file {path} has mode {mode:04o}, so other users may have read the "
                f"token; refusing to use it. Run `chmod 600 {path}` if you are sure nobody did, "
                "otherwise revoke the application on Flattr and log in again",
                location=str(path),
                reason="insecure",
            )

    def save(self, profile: str, record: StoredToken) -> None:
        """Write ``profile``'s token atomically, mode ``0600`` from the start.

        :param profile: the profile name.
        :param record: what to store.
        :raises TokenStoreError: the directory cannot be written, or an
            existing file for this profile is damaged (remove it first with
            :meth:`delete`; it is never overwritten silently).
        """
        if not isinstance(record, StoredToken):
            raise ValidationError("record", "must be a StoredToken")
        path = self.path(profile)
        try:
            self.load(profile)
        except TokenStoreError as exc:
            raise TokenStoreError(
                f"not replacing {path}: {exc}", location=str(path), reason=exc.reason
            ) from None
        payload = (json.dumps(record.to_dict(), indent=2, sort_keys=True) + "\n").encode()
        self._prepare_directory()
        self._remove_temporaries(profile=None, only_stale=True)
        temp = self.directory / (f".{path.name}.{os.getpid()}.{secrets.token_hex(6)}{_TEMP_SUFFIX}")
        flags = (
            os.O_WRONLY
            | os.O_CREAT
            | os.O_EXCL
            | getattr(os, "O_NOFOLLOW", 0)
            | getattr(os, "O_BINARY", 0)
        )
        try:
            # 0600 at creation (O_EXCL: never someone else's file), before any byte is written.
            fd = os.open(temp, flags, 0o600)
        except OSError as exc:
            raise TokenStoreError(
                f"cannot write the token file {path}: {exc.strerror or exc}", location=str(path)
            ) from None
        try:
            try:
                view = memoryview(payload)
                while view:
                    view = view[os.write(fd, view) :]
                os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(temp, path)
        except BaseException as exc:
            # Every way out, Ctrl-C included: the temporary file holds the whole secret.
            with contextlib.suppress(OSError):
                temp.unlink()
            if isinstance(exc, OSError):
                raise TokenStoreError(
                    f"cannot write the token file {path}: {exc.strerror or exc}",
                    location=str(path),
                ) from None
            raise
        self._sync_directory()

    def _prepare_directory(self) -> None:
        """Create the token directory (and missing parents) ``0700``; refuse an open one."""
        missing: list[Path] = []
        candidate = self.directory
        # Bounded by the path's depth; stops at the first directory that exists.
        while not os.path.lexists(candidate) and candidate != candidate.parent:
            missing.append(candidate)
            candidate = candidate.parent
        for directory in reversed(missing):
            try:
                directory.mkdir(mode=0o700)
            except FileExistsError:
                continue
            except OSError as exc:
                raise TokenStoreError(
                    f"cannot create the token directory {directory}: {exc.strerror or exc}",
                    location=str(directory),
                ) from None
            with contextlib.suppress(OSError):
                os.chmod(directory, 0o700)  # the umask may have taken the owner's bits
        try:
            info = os.stat(self.directory)
        except OSError as exc:
            raise TokenStoreError(
                f"cannot use the token directory {self.directory}: {exc.strerror or exc}",
                location=str(self.directory),
            ) from None
        if not stat.S_ISDIR(info.st_mode):
            raise TokenStoreError(
                f"the token directory {self.directory} is not a directory",
                location=str(self.directory),
            )
        if not _is_posix():
            return
        mode = stat.S_IMODE(info.st_mode)
        fix = f"run `chmod 700 {self.directory}`"
        if info.st_uid not in (os.getuid(), 0):
            raise TokenStoreError(
                f"the token directory {self.directory} belongs to another user "
                f"(uid {info.st_uid}); refusing to store a token there",
                location=str(self.directory),
                reason="insecure",
            )
        if mode & _WRITABLE_BY_OTHERS:
            raise TokenStoreError(
                f"the token directory {self.directory} has mode {mode:04o}, so other users can "
                f"add or replace files in it; refusing to store a token there: {fix}",
                location=str(self.directory),
                reason="insecure",
            )
        if mode & _PRIVATE_MASK:
            warnings.warn(
                f"the token directory {self.directory} has mode {mode:04o}, so other users can "
                f"see which profiles exist (the token files themselves are private): {fix}",
                TokenStoreWarning,
                stacklevel=3,
            )

    def _remove_temporaries(self, *, profile: str | None, only_stale: bool) -> int:
        """Remove this store's temporary files; ``profile`` ``None`` means every profile.

        With ``only_stale`` a file is removed only when the process that wrote
        it is gone or it is older than :data:`_STALE_AFTER_SECONDS`, so a save
        in progress elsewhere is left alone. Only regular files of this user
        whose names match :data:`_TEMP_NAME` are touched.

        :returns: how many files were removed.
        """
        try:
            entries = os.scandir(self.directory)
        except OSError:
            return 0
        removed = 0
        now = time.time()
        with entries:
            for count, entry in enumerate(entries):
                if count >= _MAX_SCAN_ENTRIES:
                    break
                match = _TEMP_NAME.fullmatch(entry.name)
                if match is None or (profile is not None and match["profile"] != profile):
                    continue
                try:
                    info = entry.stat(follow_symlinks=False)
                except OSError:
                    continue
                if not stat.S_ISREG(info.st_mode):
                    continue
                if _is_posix() and info.st_uid != os.getuid():
                    continue
                if only_stale and not _is_stale(int(match["pid"]), info.st_mtime, now):
                    continue
                with contextlib.suppress(OSError):
                    os.unlink(entry.path)
                    removed += 1
        return removed

    def _sync_directory(self) -> None:
        if not _is_posix():
            return
        try:
            fd = os.open(self.directory, os.O_RDONLY)
        except OSError:
            return
        try:
            os.fsync(fd)
        except OSError:
            pass
        finally:
            os.close(fd)

    def delete(self, profile: str = "default") -> bool:
        """Remove ``profile``'s token file, whatever its state, and its leftover temporary files.

        Temporary files of other profiles are removed too when the process
        that wrote them is gone.

        :returns: whether a file (the token file or a leftover) was removed.
        :raises TokenStoreError: it exists but cannot be removed.
        """
        path = self.path(profile)
        # Forgetting a profile forgets its interrupted saves too; other
        # profiles' are removed only when stale.
        leftovers = self._remove_temporaries(profile=profile, only_stale=False)
        self._remove_temporaries(profile=None, only_stale=True)
        try:
            path.unlink()
        except FileNotFoundError:
            if leftovers:
                self._sync_directory()
            return leftovers > 0
        except OSError as exc:
            raise TokenStoreError(
                f"cannot remove the token file {path}: {exc.strerror or exc}", location=str(path)
            ) from None
        self._sync_directory()
        return True


class KeyringTokenStore:
    """Tokens in the system keyring, one entry per profile (needs ``flattr[keyring]``).

    Each profile is one password entry: service ``service``, user name the
    profile name, password the same JSON record a :class:`FileTokenStore`
    writes.

    :param service: the keyring service name.
    :raises TokenStoreError: the ``keyring`` package is not installed.
    """

    def __init__(self, service: str = "flattr") -> None:
        try:
            import keyring
            import keyring.errors
        except ImportError:
            raise TokenStoreError(
                "the keyring token store needs the keyring package: pip install 'flattr[keyring]'",
                reason="unavailable",
            ) from None
        self._keyring = keyring
        self._errors = keyring.errors
        if not isinstance(service, str) or not service:
            raise ValidationError("service", "must be a non-empty string")
        self.service = service

    def __repr__(self) -> str:
        return f"KeyringTokenStore({self.service!r})"

    def describe(self, profile: str = "default") -> str:
        """The keyring entry of ``profile``, as text."""
        return f"keyring entry {self.service}/{validate_profile(profile)}"

    def _fail(self, action: str, profile: str, exc: Exception) -> TokenStoreError:
        return TokenStoreError(
            f"cannot {action} the {self.describe(profile)} ({exc.__class__.__name__}: {exc}); "
            "check that a keyring backend is available and unlocked, or use the file store",
            location=self.describe(profile),
            reason="unavailable",
        )

    def load(self, profile: str = "default") -> StoredToken | None:
        """Read ``profile``'s token from the keyring.

        :returns: the record, or ``None`` when there is no entry.
        :raises TokenStoreError: the keyring failed or the entry is damaged.
        """
        validate_profile(profile)
        try:
            text = self._keyring.get_password(self.service, profile)
        except self._errors.KeyringError as exc:
            raise self._fail("read", profile, exc) from None
        if text is None:
            return None
        return _parse_record(text, self.describe(profile))

    def save(self, profile: str, record: StoredToken) -> None:
        """Store ``profile``'s token in the keyring.

        :raises TokenStoreError: the keyring failed, or the entry there now is
            damaged (remove it first with :meth:`delete`).
        """
        if not isinstance(record, StoredToken):
            raise ValidationError("record", "must be a StoredToken")
        try:
            self.load(profile)
        except TokenStoreError as exc:
            raise TokenStoreError(
                f"not replacing the {self.describe(profile)}: {exc}",
                location=self.describe(profile),
                reason=exc.reason,
            ) from None
        try:
            self._keyring.set_password(
                self.service, profile, json.dumps(record.to_dict(), sort_keys=True)
            )
        except self._errors.KeyringError as exc:
            raise self._fail("write", profile, exc) from None

    def delete(self, profile: str = "default") -> bool:
        """Remove ``profile``'s keyring entry.

        :returns: whether there was one.
        :raises TokenStoreError: the keyring failed.
        """
        validate_profile(profile)
        try:
            if self._keyring.get_password(self.service, profile) is None:
                return False
            self._keyring.delete_password(self.service, profile)
        except self._errors.PasswordDeleteError:
            return False
        except self._errors.KeyringError as exc:
            raise self._fail("remove", profile, exc) from None
        return True
