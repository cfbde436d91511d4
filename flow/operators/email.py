"""EmailOperator: send an email over SMTP (Airflow's airflow.operators.email / smtp provider).

The server comes from the connection `conn_id`, else the `[smtp]` config (flow.utils.email).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flow.sdk.baseoperator import BaseOperator
from flow.sdk.context import Context
from flow.utils.email import send_email


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

    def execute(self, context: Context) -> None:
        recipients = send_email(
            self.to, self.subject, self.html_content, files=self.files, cc=self.cc,
            bcc=self.bcc, mime_charset=self.mime_charset, conn_id=self.conn_id,
            from_email=self.from_email, custom_headers=self.custom_headers)
        print(f"Sent an email to {recipients}", flush=True)
