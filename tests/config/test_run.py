"""`run.py`, the README's first command: what it checks before it serves."""

from __future__ import annotations

import socket

import pytest

import run


def test_a_free_port_is_free() -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        port = holder.getsockname()[1]
    assert not run.port_taken("127.0.0.1", port)


@pytest.mark.skipif(
    not hasattr(socket, "SO_REUSEPORT"), reason="the server shares ports only where there is SO_REUSEPORT"
)
def test_a_port_a_running_server_listens_on_is_taken_though_it_would_let_another_share_it() -> None:
    with socket.socket() as server:
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)  # as gunicorn --reuse-port
        server.bind(("127.0.0.1", 0))
        server.listen()
        assert run.port_taken("127.0.0.1", server.getsockname()[1])
