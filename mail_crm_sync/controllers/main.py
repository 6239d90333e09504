import logging

from odoo import http
from odoo.http import content_disposition, request

from mail_crm_sync_engine import MailSyncError, MessageGone

_logger = logging.getLogger(__name__)


class MailCrmSyncController(http.Controller):
    @http.route("/mail_crm_sync/attachment/<int:attachment_id>", type="http", auth="user", methods=["GET"])
    def attachment(self, attachment_id, download=None):
        """An attachment of a synced email, kept in Odoo or fetched from the mail server, for a user
        who may read the email: 404 for anyone else, a page saying why when the server cannot give it.
        Shown in the browser only when its type and name are harmless and ``download`` is not asked
        (``_inline_type``), else a download of bytes the browser does not interpret. A GET, as
        Odoo's /web/content: it reads the mailbox (BODY.PEEK) and changes no record a user sees."""
        attachment = request.env["mail.sync.message.attachment"].search([("id", "=", attachment_id)])
        if not attachment:
            raise request.not_found()
        try:
            content = attachment.sudo()._content()  # the copy kept in Odoo first
        except MessageGone:
            return self._unavailable(
                410,
                request.env._(
                    "This email is no longer on the mail server (it was deleted or moved to a folder that "
                    "is not synced), so its attachment cannot be downloaded any more."
                ),
                attachment,
            )
        except MailSyncError as error:
            _logger.info("Attachment %s could not be fetched: %s", attachment_id, error)
            account = attachment.sudo().email_id.location_ids[:1].account_id
            return self._unavailable(503, account._error_message(error), attachment)
        content_type = "" if download else attachment._inline_type()
        disposition = content_disposition(attachment._download_name())  # RFC 6266, any name
        if content_type:
            disposition = "inline" + disposition.removeprefix("attachment")
        headers = [
            ("Content-Type", content_type or "application/octet-stream"),
            ("Content-Length", str(len(content))),
            ("Content-Disposition", disposition),
            ("X-Content-Type-Options", "nosniff"),
            (
                "Content-Security-Policy",
                "sandbox; default-src 'none'; img-src 'self'; style-src 'unsafe-inline'",
            ),
            ("Cache-Control", "private, no-store"),
        ]
        return request.make_response(content, headers)

    def _unavailable(self, status, reason, attachment):
        return request.render(
            "mail_crm_sync.attachment_unavailable",
            {
                "name": attachment._download_name(),
                "reason": reason,
                "url": f"/odoo/action-mail_crm_sync.mail_sync_message_action/{attachment.email_id.id}",
            },
            status=status,
        )
