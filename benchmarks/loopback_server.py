"""A raw, fast HTTP/1.1 keep-alive server for the benchmarks (standard library only).

It answers every request with the same fixed body, never checks signatures
(it measures the *client*), and counts the TCP connections it accepted and the
requests it answered. It runs as its own process so that its work does not
share a GIL with the client being measured::

    python benchmarks/loopback_server.py BODY_FILE [CPU]

With ``CPU``, the process (and every thread it starts) runs on that CPU
only. It prints ``port N`` once listening, then answers lines on stdin:
``stats`` -> ``connections C requests R``; ``reset`` -> ``ok`` (zeroes the
counters); ``quit`` (or end of input) stops it.
"""

from __future__ import annotations

import os
import socket
import sys
import threading

_counts = {"connections": 0, "requests": 0}
_lock = threading.Lock()


def _response(body: bytes, content_type: str) -> bytes:
    head = f"HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\nContent-Length: {len(body)}\r\n\r\n"
    return head.encode("ascii") + body


def _content_length(head: bytes) -> int:
    # A search, not a loop over header lines: the server's own per-request
    # work must not grow with the number of headers a client sends.
    start = head.lower().find(b"\r\ncontent-length:")
    if start < 0:
        return 0
    value = head[start + 17 :].split(b"\r\n", 1)[0]
    return int(value.strip() or b"0")


def _serve(conn: socket.socket, answer: bytes) -> None:
    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    buffer = b""
    try:
        while True:
            data = conn.recv(65536)
            if not data:
                break
            buffer += data
            while True:
                end = buffer.find(b"\r\n\r\n")
                if end < 0:
                    break
                head = buffer[:end]
                need = end + 4 + _content_length(head)
                if len(buffer) < need:
                    break
                buffer = buffer[need:]
                conn.sendall(answer)
                with _lock:
                    _counts["requests"] += 1
    except OSError:
        pass
    finally:
        conn.close()


def _accept(listener: socket.socket, answer: bytes) -> None:
    while True:
        try:
            conn, _ = listener.accept()
        except OSError:
            return
        with _lock:
            _counts["connections"] += 1
        threading.Thread(target=_serve, args=(conn, answer), daemon=True).start()


def main() -> None:
    # The body file's suffix says what it is: API v2 answers JSON, 0.0.1 XML.
    content_type = (
        "application/json;charset=utf-8"
        if sys.argv[1].endswith(".json")
        else "text/xml; charset=utf-8"
    )
    with open(sys.argv[1], "rb") as handle:
        answer = _response(handle.read(), content_type)
    if len(sys.argv) > 2:
        os.sched_setaffinity(0, {int(sys.argv[2])})
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    threading.Thread(target=_accept, args=(listener, answer), daemon=True).start()
    print(f"port {listener.getsockname()[1]}", flush=True)
    for line in sys.stdin:
        command = line.strip()
        if command == "stats":
            with _lock:
                counts = dict(_counts)
            print(f"connections {counts['connections']} requests {counts['requests']}", flush=True)
        elif command == "reset":
            with _lock:
                _counts["connections"] = _counts["requests"] = 0
            print("ok", flush=True)
        elif command == "quit":
            break
    listener.close()


if __name__ == "__main__":
    main()
