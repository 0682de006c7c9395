"""Which proxy a connection goes through: an explicit one, or the environment's.

The environment is read the way requests and httpx read it: ``HTTPS_PROXY``
for ``https://`` URLs, ``HTTP_PROXY`` for ``http://``, ``ALL_PROXY`` for
both (lower-case names first), and ``NO_PROXY`` (comma-separated host names
and ``.suffix`` domains, or ``*``) for hosts to reach directly. Loopback
hosts are always reached directly. Proxies are HTTP ``CONNECT`` proxies
(``http://``) or SOCKS (``socks5://``, ``socks4://``), through PySocks.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Final, Literal
from urllib.parse import urlsplit

import httplib2

from flattr.errors import ValidationError

__all__ = ["ProxyChooser", "check_proxy_url", "chooser", "describe_proxy"]

ProxyChooser = Callable[[str], "httplib2.ProxyInfo | None"]

_SCHEMES: Final = frozenset({"http", "socks5", "socks", "socks4"})
#: Hosts never sent through a proxy.
_DIRECT: Final = ("localhost", "127.0.0.1", "::1")


def check_proxy_url(url: object) -> str:
    """``url`` if it names a proxy this library can use.

    :raises ValidationError: (``field="proxy"``) anything else.
    """
    if not isinstance(url, str):
        raise ValidationError("proxy", f"must be a URL string, not {type(url).__name__}")
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        raise ValidationError("proxy", "is not a valid URL (check the port)") from None
    if parts.scheme.lower() not in _SCHEMES or not parts.hostname:
        raise ValidationError(
            "proxy", "must look like http://host:port, socks5://host:port or socks4://host:port"
        )
    del port
    return url.strip()


def describe_proxy(url: str) -> str:
    """The proxy URL without its user name and password, for reprs and messages."""
    parts = urlsplit(url)
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{parts.hostname}{port}"


def _from_environment(scheme: str, environ: Mapping[str, str]) -> str | None:
    for name in (f"{scheme}_proxy", "all_proxy"):
        value = environ.get(name) or environ.get(name.upper())
        if value and value.strip():
            return value.strip()
    return None


def chooser(explicit: str | None, *, trust_env: bool) -> ProxyChooser | None:
    """What the connections of a transport ask for their proxy.

    :param explicit: a proxy URL for every request (``NO_PROXY`` still applies
        when ``trust_env``); ``None`` to take it from the environment.
    :param trust_env: whether ``*_PROXY`` and ``NO_PROXY`` are read.
    :returns: ``None`` when no proxy can ever apply.
    """
    if explicit is None and not trust_env:
        return None

    def choose(scheme: str) -> httplib2.ProxyInfo | None:
        environ = os.environ if trust_env else {}
        url = explicit or _from_environment(scheme, environ)
        if url is None:
            return None
        if url is not explicit:
            try:
                check_proxy_url(url)
            except ValidationError as exc:
                raise ValidationError(
                    "proxy", f"the {scheme.upper()}_PROXY environment variable {exc.message}"
                ) from None
        no_proxy = environ.get("no_proxy", environ.get("NO_PROXY", ""))
        method: Literal["http", "https"] = "https" if scheme == "https" else "http"
        info = httplib2.proxy_info_from_url(url, method=method, noproxy=no_proxy)
        if info.bypass_hosts is not httplib2.AllHosts:
            info.bypass_hosts = (*info.bypass_hosts, *_DIRECT)
        return info

    return choose
