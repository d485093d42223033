"""The outbox channel: each email becomes one ``.eml`` file instead of being sent.

Used by ``dunning demo``, dry runs and setups without a mail server. The file is
named after the action key, so a second attempt at the same action finds the file
and leaves it alone: the outbox is idempotent, like the ledger expects.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from pathlib import Path
from types import TracebackType

from connector.channels.email import OutgoingEmail, build_message
from connector.errors import ChannelFailed, ChannelRetriable

# Keys become file names: no path separators, no leading dot, nothing exotic.
_SAFE_KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:+=@-]*")


class OutboxChannel:
    """Writes each email to ``<directory>/<action key>.eml``, atomically, once."""

    def __init__(self, directory: Path | str):
        self.directory = Path(directory)

    def __enter__(self) -> OutboxChannel:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        return None

    def path_for(self, action_key: str) -> Path:
        """Where the email of action `action_key` is (or will be) written."""
        if _SAFE_KEY.fullmatch(action_key) is None:
            raise ChannelFailed(
                f"action_key: not usable as a file name: {action_key!r}"
            )
        return self.directory / f"{action_key}.eml"

    def send(self, email: OutgoingEmail) -> str:
        """Write `email` unless its file exists; return its Message-ID either way."""
        path = self.path_for(email.action_key)
        if path.exists():
            return email.message_id
        # Unix line ends on disk; SMTP would send the same message with CRLF.
        data = build_message(email).as_bytes()
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            _write_atomically(path, data)
        except OSError as exc:
            # Nothing was written: the action waits for a later cycle.
            where = exc.filename or self.directory
            raise ChannelRetriable(
                f"cannot write to the outbox {where}: {exc.strerror}"
            ) from exc
        return email.message_id


def _write_atomically(path: Path, data: bytes) -> None:
    """Write a temporary file beside `path`, flush it to disk, then rename it."""
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)
        raise
    _sync_directory(path.parent)


def _sync_directory(directory: Path) -> None:
    """Make the rename itself durable where the platform allows it."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
