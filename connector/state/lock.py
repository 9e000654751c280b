"""One writer per state file: an exclusive `flock` on `<state>.lock` holding the writer's pid.

A second `run` or a local `resync` next to a running bridge fails at once with
`StateLocked` instead of becoming a second writer with its own idea of what every listing
last received (Rule 3). The kernel drops the lock when the process dies, so a crash never
leaves a stale lock behind. Stores of one process share the lock.

Usage: ``key = take_writer_lock(path); ...; release_writer_lock(key)``
"""

from __future__ import annotations

import fcntl
import os
import threading
from pathlib import Path

from connector.state.errors import StateLocked


def lock_path(path: Path) -> Path:
    """The writer lock file of the state file at `path`."""
    return Path(f"{path}.lock")


# Writer locks this process holds: resolved state path -> [fd, open stores]. The lock
# keeps other *processes* out; stores of one process share it (an in-process restart
# opens the new store before the old one is gone).
_HELD: dict[Path, list[int]] = {}
_HELD_LOCK = threading.Lock()


def take_writer_lock(path: Path) -> Path:
    """Take (or share, within this process) the writer lock of the state file `path`.

    Raises StateLocked, naming the holder's pid and the lock file, when another process
    holds it. Returns the key to pass to `release_writer_lock`: `key = take_writer_lock(p)`.
    """
    key = Path(path).resolve()
    with _HELD_LOCK:
        held = _HELD.get(key)
        if held is not None:
            held[1] += 1
            return key
        lock = lock_path(path)
        fd = os.open(lock, os.O_CREAT | os.O_RDWR, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_holder(fd)
            os.close(fd)
            raise StateLocked(
                f"state file {path} is in use by another bridge process ({holder}; lock {lock}): "
                "stop it first, or send the resync to it"
            ) from None
        except BaseException:
            os.close(fd)
            raise
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        _HELD[key] = [fd, 1]
        return key


def release_writer_lock(key: Path) -> None:
    """Give back one hold of the lock taken by `take_writer_lock`; the last one unlocks."""
    with _HELD_LOCK:
        held = _HELD.get(key)
        if held is None:
            return
        held[1] -= 1
        if held[1] <= 0:
            del _HELD[key]
            os.close(held[0])  # closing the fd releases the flock


def _read_holder(fd: int) -> str:
    try:
        text = os.pread(fd, 64, 0).decode("ascii", "replace").strip()
    except OSError:
        text = ""
    return f"pid {text}" if text.isdigit() else "pid unknown"

