"""A real SMTP server process for tests (aiosmtpd): STARTTLS required, AUTH required.

``python -m tests.plugins.smtp_server <port> <maildir> <cert> <key> <user> <password>``
serves 127.0.0.1:<port> and writes each accepted message to ``<maildir>/<n>.eml`` with its
envelope in ``<n>.json``. The ``smtp_server`` fixture starts one with a fresh self-signed
certificate (its own CA file for the client) and reads the mailbox back.
"""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
import json
import os
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]


# --- the server process -----------------------------------------------------------------


class Mailbox:
    """aiosmtpd handler: every message to a numbered file."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.count = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.count += 1
        base = self.directory / f"{self.count:04d}"
        base.with_suffix(".eml").write_bytes(envelope.original_content or envelope.content)
        meta = {"mail_from": envelope.mail_from, "rcpt_tos": list(envelope.rcpt_tos)}
        tmp = base.with_suffix(".tmp")
        tmp.write_text(json.dumps(meta))
        tmp.rename(base.with_suffix(".json"))  # the .json appears last: the message is whole
        return "250 Message accepted for delivery"


def serve(port: int, maildir: Path, cert: Path, key: Path, user: str, password: str) -> None:
    from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.load_cert_chain(cert, key)
    handler = Mailbox(maildir)

    def authenticator(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> Any:
        ok = isinstance(data, LoginPassword) and (data.login, data.password) == (
            user.encode(),
            password.encode(),
        )
        return AuthResult(success=ok, handled=False)

    async def main() -> None:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(
            lambda: SMTP(
                handler,
                hostname="smtp.test",
                tls_context=tls,
                require_starttls=True,
                auth_required=True,
                auth_require_tls=True,
                authenticator=authenticator,
            ),
            host="127.0.0.1",
            port=port,
        )
        print("ready", flush=True)  # noqa: T201
        async with server:
            await server.serve_forever()

    asyncio.run(main())


# --- the fixture ------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _self_signed(directory: Path) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@dataclass
class SmtpServer:
    port: int
    user: str
    password: str
    ca_file: Path  # the server's self-signed certificate: trust it to verify the server
    maildir: Path

    def messages(self) -> list[tuple[dict[str, Any], EmailMessage]]:
        """(envelope, message) of every accepted message, in order."""
        found = []
        for meta in sorted(self.maildir.glob("*.json")):
            raw = meta.with_suffix(".eml").read_bytes()
            parsed = message_from_bytes(raw, policy=policy.default)
            assert isinstance(parsed, EmailMessage)
            found.append((json.loads(meta.read_text()), parsed))
        return found

    def to(self, address: str) -> list[EmailMessage]:
        """The messages delivered to ``address``."""
        return [m for envelope, m in self.messages() if address in envelope["rcpt_tos"]]

    def settings(self) -> dict[str, Any]:
        """The noti settings that send through this server."""
        return {
            "smtp_host": "127.0.0.1",
            "smtp_port": self.port,
            "smtp_security": "starttls",
            "smtp_username": self.user,
            "smtp_password": self.password,
            "smtp_ca_file": str(self.ca_file),
            "smtp_from": "weAlist <no-reply@wealist.test>",
        }


@pytest.fixture
def smtp_server(tmp_path: Path) -> Iterator[SmtpServer]:
    maildir = tmp_path / "mail"
    maildir.mkdir()
    cert, key = _self_signed(tmp_path)
    port = _free_port()
    server = SmtpServer(port, "digest-sender", "s3cret-smtp-password", cert, maildir)
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.plugins.smtp_server",
            str(port),
            str(maildir),
            str(cert),
            str(key),
            server.user,
            server.password,
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().decode()
        if line.strip() != "ready":
            raise RuntimeError(f"SMTP server did not start: {line}{proc.stdout.read().decode()}")
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        yield server
    finally:
        proc.terminate()
        proc.wait(10)
        if proc.stdout is not None:
            proc.stdout.close()


if __name__ == "__main__":
    port_arg, maildir_arg, cert_arg, key_arg, user_arg, password_arg = sys.argv[1:7]
    serve(int(port_arg), Path(maildir_arg), Path(cert_arg), Path(key_arg), user_arg, password_arg)
