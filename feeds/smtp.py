"""Where digest messages go: an SMTP server, or a folder of ``.eml`` files.

Settings (environment only; secrets never come from files or options):
``HIMJOBS_SMTP_HOST`` (required), ``HIMJOBS_SMTP_FROM`` (required, e.g. ``himjobs <jobs@example.org>``),
``HIMJOBS_SMTP_PORT`` (default 587 for starttls, 465 for ssl, 25 for none), ``HIMJOBS_SMTP_USER`` and
``HIMJOBS_SMTP_PASSWORD`` (log in when a user is set), ``HIMJOBS_SMTP_TLS`` (starttls | ssl | none,
default starttls).

Both senders have ``send(message)`` that returns once the message is accepted and raises otherwise.
"""

from __future__ import annotations

import os
import smtplib
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import parseaddr
from pathlib import Path
from typing import Protocol

from scraper.errors import ConfigError

TLS_MODES = {"starttls": 587, "ssl": 465, "none": 25}
DEFAULT_OUTBOX_FROM = "himjobs <digest@himjobs.invalid>"


class Sender(Protocol):
    from_address: str

    def send(self, message: EmailMessage) -> None: ...


@dataclass(frozen=True)
class SmtpSender:
    host: str
    from_address: str
    port: int = 587
    tls: str = "starttls"
    user: str | None = None
    password: str | None = None
    timeout: float = 30.0

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> SmtpSender:
        env = os.environ if env is None else env
        for name in ("HIMJOBS_SMTP_HOST", "HIMJOBS_SMTP_FROM"):
            if not env.get(name, "").strip():
                raise ConfigError(f"{name} is not set: sending digests needs HIMJOBS_SMTP_HOST and HIMJOBS_SMTP_FROM "
                                  "(or write them to a folder with --outbox DIR)")
        tls = env.get("HIMJOBS_SMTP_TLS", "starttls").strip().lower() or "starttls"
        if tls not in TLS_MODES:
            raise ConfigError(f"HIMJOBS_SMTP_TLS {tls!r} must be one of: {', '.join(TLS_MODES)}")
        raw_port = env.get("HIMJOBS_SMTP_PORT", "").strip()
        try:
            port = int(raw_port) if raw_port else TLS_MODES[tls]
        except ValueError:
            raise ConfigError(f"HIMJOBS_SMTP_PORT {raw_port!r} is not a port number") from None
        if not 0 < port < 65536:
            raise ConfigError(f"HIMJOBS_SMTP_PORT {port} is not a port number")
        from_address = env["HIMJOBS_SMTP_FROM"].strip()
        if "@" not in parseaddr(from_address)[1]:
            raise ConfigError(f"HIMJOBS_SMTP_FROM {from_address!r} is not an e-mail address")
        password = env.get("HIMJOBS_SMTP_PASSWORD")
        user = env.get("HIMJOBS_SMTP_USER", "").strip() or None
        if user and not password:
            raise ConfigError("HIMJOBS_SMTP_USER is set but HIMJOBS_SMTP_PASSWORD is not")
        return cls(host=env["HIMJOBS_SMTP_HOST"].strip(), from_address=from_address, port=port, tls=tls,
                   user=user, password=password)

    def send(self, message: EmailMessage) -> None:
        """One connection per message: a failure never leaves a half-used session for the next one."""
        context = ssl.create_default_context()
        if self.tls == "ssl":
            client: smtplib.SMTP = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=context)
        else:
            client = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        with client:
            if self.tls == "starttls":
                client.starttls(context=context)
            if self.user:
                client.login(self.user, self.password or "")
            client.send_message(message)


@dataclass(frozen=True)
class OutboxSender:
    """Writes each message to ``directory`` as ``<Message-ID>.eml`` (written whole, then renamed)."""

    directory: Path
    from_address: str = DEFAULT_OUTBOX_FROM

    def send(self, message: EmailMessage) -> None:
        directory = Path(self.directory)
        directory.mkdir(parents=True, exist_ok=True)
        name = "".join(c if c.isalnum() or c in "-._" else "_" for c in message["Message-ID"].strip("<>"))
        partial = directory / f".{name}.partial"
        partial.write_bytes(message.as_bytes())
        partial.replace(directory / f"{name}.eml")
