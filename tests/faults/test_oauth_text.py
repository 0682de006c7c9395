"""An OAuth error answer without oauth_problem keeps the server's words, capped and cleaned."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable

import pytest

import flattr
from flattr._responses import MAX_SERVER_TEXT

from .kit import RawRequest, ScriptedServer, answer

Scripted = Callable[..., ScriptedServer]


def auth_against(scripted: Scripted, status: int, body: bytes, ctype: str) -> flattr.FlattrAuth:
    def handler(sock: socket.socket, request: RawRequest, stopping: threading.Event) -> None:
        sock.sendall(answer(status, body, {"Content-Type": ctype}))

    server = scripted(handler)
    return flattr.FlattrAuth("consumer-key", "consumer-secret", "oob", base_url=server.base_url)


def test_plain_text_error_is_kept(scripted: Scripted) -> None:
    """oauthlib's endpoints answer a bad nonce with exactly this body and no oauth_problem."""
    auth = auth_against(scripted, 400, b"Invalid nonce format.", "text/plain")
    with pytest.raises(flattr.OAuthError) as caught:
        auth.fetch_request_token()
    assert caught.value.problem == "http_400"
    assert caught.value.status == 400
    assert "the server said: Invalid nonce format." in str(caught.value)


def test_hostile_text_is_capped_and_scrubbed(scripted: Scripted) -> None:
    body = ("error=invalid_request\r\n\x1b[31mred\x1b[0m\u202eevil\x00" + "x" * 5000).encode()
    auth = auth_against(scripted, 401, body, "text/plain")
    with pytest.raises(flattr.OAuthError) as caught:
        auth.fetch_request_token()
    message = str(caught.value)
    said = message.split("the server said: ", 1)[1]
    assert said.startswith("error=invalid_request [31mred [0m evil x")
    assert len(said.split(". ", 1)[0]) <= MAX_SERVER_TEXT
    assert not any(ch in message for ch in "\r\n\x1b\x00\u202e")
    assert len(message) < 400


def test_an_oauth_problem_needs_no_server_text(scripted: Scripted) -> None:
    auth = auth_against(
        scripted, 401, b"oauth_problem=nonce_used", "application/x-www-form-urlencoded"
    )
    with pytest.raises(flattr.OAuthError) as caught:
        auth.fetch_request_token()
    assert caught.value.problem == "nonce_used"
    assert "server said" not in str(caught.value)
