"""The embedded default way out: one `.eml` file per message in a folder."""

from __future__ import annotations

import os
import re
from pathlib import Path

from crm.errors import ConfigError
from crm.mail.transport import SendResult, SendStatus

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


class OutboxTransport:
    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigError(f"cannot use {self.directory} as the outbox ({exc.strerror or exc}): point it at a "
                              "folder this user can write, or set CRM_SMTP_URL", "CRM_OUTBOX_DIR") from None

    def path_for(self, message: bytes, recipient: str) -> Path:
        head = message.split(b"\r\n\r\n", 1)[0].decode("ascii", "replace")
        found = re.search(r"(?im)^message-id:\s*<([^>]+)>", head)
        name = found.group(1) if found else recipient
        return self.directory / f"{_UNSAFE.sub('_', name)}.eml"

    def send(self, sender: str, recipient: str, message: bytes) -> SendResult:
        path = self.path_for(message, recipient)
        tmp = path.with_suffix(".eml.tmp")
        try:
            with open(tmp, "wb") as out:  # written whole, then renamed: never a half file
                out.write(message)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, path)
        except BaseException:  # a full disk: no empty .tmp left behind for each attempt
            tmp.unlink(missing_ok=True)
            raise
        return SendResult(SendStatus.SENT, 250, str(path))

    def connect(self) -> None:
        return None

    def close(self) -> None:
        return None
