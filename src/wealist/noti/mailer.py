"""Email over SMTP (aiosmtplib) and the digest message.

Security is explicit: ``starttls`` refuses a server that does not offer STARTTLS (no
silent downgrade to plain text), ``tls`` speaks TLS from the first byte, ``none`` is for
a relay on the same host. Credentials are sent only when configured, and neither they
nor recipients' addresses are logged.
"""

from __future__ import annotations

from collections.abc import Sequence
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Protocol

import aiosmtplib

from wealist.noti.rows import DigestItemRow
from wealist.noti.settings import NotiSettings

__all__ = ("Mailer", "RecipientRefusedError", "SmtpMailer", "digest_message")

# What a type says in an email (the app's own wording stays in the frontend).
_PHRASES = {
    "TASK_ASSIGNED": "You were assigned a task",
    "TASK_UNASSIGNED": "You were unassigned from a task",
    "TASK_MENTIONED": "You were mentioned in a task",
    "TASK_DUE_SOON": "A task is due soon",
    "TASK_OVERDUE": "A task is overdue",
    "TASK_STATUS_CHANGED": "A task changed status",
    "COMMENT_ADDED": "New comment",
    "COMMENT_MENTIONED": "You were mentioned in a comment",
    "WORKSPACE_INVITED": "You were added to a workspace",
    "WORKSPACE_ROLE_CHANGED": "Your workspace role changed",
    "WORKSPACE_REMOVED": "You were removed from a workspace",
    "PROJECT_INVITED": "You were added to a project",
    "PROJECT_ROLE_CHANGED": "Your project role changed",
    "PROJECT_REMOVED": "You were removed from a project",
    "BOARD_ASSIGNED": "You were assigned a task",
    "BOARD_UNASSIGNED": "You were unassigned from a task",
    "BOARD_PARTICIPANT_ADDED": "You were added to a task",
    "PARTICIPANT_ADDED": "You were added to a task",
    "BOARD_UPDATED": "A task you follow changed",
    "BOARD_STATUS_CHANGED": "A task changed status",
    "BOARD_COMMENT_ADDED": "New comment on a task",
    "BOARD_DUE_SOON": "A task is due soon",
    "BOARD_OVERDUE": "A task is overdue",
}


class RecipientRefusedError(Exception):
    """The server refused the address for good: retrying will not help."""


class Mailer(Protocol):
    async def send(self, message: EmailMessage) -> None: ...


class SmtpMailer:
    """One SMTP connection per message (digests are few and far between)."""

    def __init__(self, settings: NotiSettings) -> None:
        self.settings = settings

    async def send(self, message: EmailMessage) -> None:
        s = self.settings
        try:
            await aiosmtplib.send(
                message,
                hostname=s.smtp_host,
                port=s.smtp_port,
                username=s.smtp_username or None,
                password=s.smtp_password or None,
                use_tls=s.smtp_security == "tls",
                start_tls=s.smtp_security == "starttls",
                timeout=s.smtp_timeout_s,
                cert_bundle=s.smtp_ca_file or None,
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            raise RecipientRefusedError(
                str(exc.recipients[0].code if exc.recipients else "")
            ) from None


def _line(item: DigestItemRow) -> str:
    phrase = _PHRASES.get(item.type, item.type.replace("_", " ").capitalize())
    name = f": {item.resource_name}" if item.resource_name else ""
    when = item.created_at.strftime("%Y-%m-%d %H:%M UTC")
    return f"- {phrase}{name} ({when})"


def digest_message(settings: NotiSettings, to: str, items: Sequence[DigestItemRow]) -> EmailMessage:
    """One plain-text email listing the user's unread notifications, oldest first."""
    count = len(items)
    message = EmailMessage()
    message["From"] = settings.smtp_from
    message["To"] = to
    noun = "notification" if count == 1 else "notifications"
    message["Subject"] = f"weAlist: {count} unread {noun}"
    message["Message-ID"] = make_msgid(domain="wealist")
    lines = [f"You have {count} unread {noun} on weAlist:", "", *(_line(i) for i in items)]
    if settings.app_url:
        workspaces = sorted({str(i.workspace_id) for i in items})
        base = settings.app_url.rstrip("/")
        lines += ["", "Open weAlist:", *(f"{base}/workspace/{w}" for w in workspaces)]
    lines += ["", "You get this email because you turned on email notifications in weAlist."]
    message.set_content("\n".join(lines))
    return message
