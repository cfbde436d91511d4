"""send_email(): one email over SMTP (Airflow's airflow.utils.email path).

The server and login come from the connection `conn_id` (flow.operators.connection_source)
when it exists, else from the `[smtp]` config section (FLOW_SMTP__HOST, __PORT, __USER,
__PASSWORD, __STARTTLS, __SSL, __MAIL_FROM, __TIMEOUT_SECONDS), as Airflow's [smtp] section.
Used by EmailOperator and by the email_on_failure/email_on_retry alerts.
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


def get_email_address_list(value: str | Iterable[str] | None) -> list[str]:
    """Airflow accepts a list or one string of addresses separated by ',' or ';'."""
    if value is None:
        return []
    if isinstance(value, str):
        return [a.strip() for a in value.replace(";", ",").split(",") if a.strip()]
    return [a.strip() for a in value if a.strip()]


def build_message(sender: str, to: list[str], subject: str, html_content: str, *,
                  cc: list[str], files: Iterable[str], mime_charset: str,
                  custom_headers: dict[str, Any]) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = sender
    message["To"] = ", ".join(to)
    if cc:
        message["Cc"] = ", ".join(cc)
    message["Date"] = formatdate(localtime=True)
    message["Message-ID"] = make_msgid()
    for name, value in custom_headers.items():
        message[name] = str(value)
    message.set_content(html_content, subtype="html", charset=mime_charset)
    for path in files:
        with open(path, "rb") as fh:
            message.add_attachment(fh.read(), maintype="application",
                                   subtype="octet-stream", filename=os.path.basename(path))
    return message


def send_email(to: str | Iterable[str], subject: str, html_content: str, *,
               files: Iterable[str] | None = None, cc: str | Iterable[str] | None = None,
               bcc: str | Iterable[str] | None = None, mime_charset: str = "utf-8",
               conn_id: str | None = "smtp_default", from_email: str | None = None,
               custom_headers: dict[str, Any] | None = None) -> list[str]:
    """Send one HTML email; returns the recipients (to, cc and bcc)."""
    smtp = load_config().smtp
    conn = lookup(conn_id)
    host = conn.host if conn and conn.host else smtp.host
    port = conn.port if conn and conn.port else smtp.port
    user = conn.login if conn else smtp.user
    password = conn.password if conn else smtp.password
    sender = from_email or smtp.mail_from
    to_list, cc_list = get_email_address_list(to), get_email_address_list(cc)
    message = build_message(sender, to_list, subject, html_content, cc=cc_list,
                            files=files or [], mime_charset=mime_charset,
                            custom_headers=dict(custom_headers or {}))
    recipients = to_list + cc_list + get_email_address_list(bcc)
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
    return recipients
