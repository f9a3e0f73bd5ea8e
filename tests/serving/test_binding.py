"""Unix socket files: the one this process created is removed when its listener closes, nothing else."""

from __future__ import annotations

import os
import socket
from pathlib import Path

from resync_fsm.serving.binding import SocketOptions, bind_all, close_all


def test_the_socket_file_bind_all_created_is_removed_on_close(tmp_path: Path) -> None:
    path = tmp_path / "app.sock"
    sockets = bind_all(SocketOptions(), [f"unix:{path}"])
    assert path.exists()
    close_all(sockets)
    assert not path.exists()
    close_all(sockets)  # idempotent


def test_a_file_that_took_the_path_meanwhile_is_left(tmp_path: Path) -> None:
    path = tmp_path / "app.sock"
    sockets = bind_all(SocketOptions(), [f"unix:{path}"])
    path.unlink()
    path.write_text("another server's file")  # e.g. a second instance replaced our stale-looking socket
    close_all(sockets)
    assert path.read_text() == "another server's file"


def test_a_handed_over_socket_file_is_not_ours_to_remove(tmp_path: Path) -> None:
    # fd:// or systemd socket activation: the manager made the file, and keeps it across restarts
    path = tmp_path / "activated.sock"
    made = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    made.bind(str(path))
    made.listen()
    try:
        sockets = bind_all(SocketOptions(), [f"fd://{os.dup(made.fileno())}"])
        close_all(sockets)
        assert path.exists()
    finally:
        made.close()
