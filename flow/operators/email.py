"""EmailOperator: send an email over SMTP (Airflow's airflow.operators.email / smtp provider).

The server and login come from the connection `conn_id` (connection_source.lookup) when it
exists, else from the `[smtp]` config section (FLOW_SMTP__HOST, __PORT, __USER, __PASSWORD,
__STARTTLS, __SSL, __MAIL_FROM, __TIMEOUT_SECONDS), as Airflow's [smtp] section.
"""

from __future__ import annotations

import os
import smtplib
import ssl
from collections.abc import Iterable
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any

from flow.config import load_config
from flow.operators.connection_source import lookup
from flow.sdk.baseoperator import BaseOperator
from flow.sdk.context import Context


def _addresses(value: str | Iterable[str] | None) -> list[str]:
    """Airflow accepts a list or a string of addresses separated by ',' or ';'."""
    if value is None:
        return []
    if isinstance(value, str):
        return [a.strip() for a in value.replace(";", ",").split(",") if a.strip()]
    return [a.strip() for a in value if a.strip()]


class EmailOperator(BaseOperator):
    """Send an email.

    Args:
        to: recipients (a list, or one string separated by ',' or ';').
        subject: the subject line (templated).
        html_content: the HTML body (templated).
        files: paths of files to attach.
        cc: carbon-copy recipients.
        bcc: blind-copy recipients.
        mime_subtype: MIME subtype of the multipart message.
        mime_charset: character set of the body.
        conn_id: SMTP connection; if absent, the `[smtp]` config section is used.
        from_email: the sender; default the config's mail_from.
        custom_headers: extra headers.
    """

    template_fields = ("to", "from_email", "subject", "html_content", "files")
    template_ext = (".html",)
    ui_color = "#e6faf9"

    def __init__(
        self,
        *,
        to: str | Iterable[str],
        subject: str,
        html_content: str,
        files: list[str] | None = None,
        cc: str | Iterable[str] | None = None,
        bcc: str | Iterable[str] | None = None,
        mime_subtype: str = "mixed",
        mime_charset: str = "utf-8",
        conn_id: str = "smtp_default",
        from_email: str | None = None,
        custom_headers: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.to = to
        self.subject = subject
        self.html_content = html_content
        self.files = list(files or [])
        self.cc = cc
        self.bcc = bcc
        self.mime_subtype = mime_subtype
        self.mime_charset = mime_charset
        self.conn_id = conn_id
        self.from_email = from_email
        self.custom_headers = dict(custom_headers or {})

    def build_message(self, sender: str) -> EmailMessage:
        message = EmailMessage()
        message["Subject"] = self.subject
        message["From"] = sender
        message["To"] = ", ".join(_addresses(self.to))
        if self.cc:
            message["Cc"] = ", ".join(_addresses(self.cc))
        message["Date"] = formatdate(localtime=True)
        message["Message-ID"] = make_msgid()
        for name, value in self.custom_headers.items():
            message[name] = str(value)
        message.set_content(self.html_content, subtype="html", charset=self.mime_charset)
        for path in self.files:
            with open(path, "rb") as fh:
                message.add_attachment(fh.read(), maintype="application",
                                       subtype="octet-stream", filename=os.path.basename(path))
        return message

    def execute(self, context: Context) -> None:
        smtp = load_config().smtp
        conn = lookup(self.conn_id)
        host = conn.host if conn and conn.host else smtp.host
        port = conn.port if conn and conn.port else smtp.port
        user = conn.login if conn else smtp.user
        password = conn.password if conn else smtp.password
        sender = self.from_email or smtp.mail_from
        message = self.build_message(sender)
        recipients = _addresses(self.to) + _addresses(self.cc) + _addresses(self.bcc)
        print(f"Sending email to {recipients} through {host}:{port}", flush=True)
        client: smtplib.SMTP
        if smtp.ssl:
            client = smtplib.SMTP_SSL(host, port, timeout=smtp.timeout_seconds,
                                      context=ssl.create_default_context())
        else:
            client = smtplib.SMTP(host, port, timeout=smtp.timeout_seconds)
        with client:
            if smtp.starttls and not smtp.ssl:
                client.starttls(context=ssl.create_default_context())
            if user and password:
                client.login(user, password)
            client.send_message(message, from_addr=sender, to_addrs=recipients)
        print(f"Sent an email to {recipients}", flush=True)
