from odoo import http
from odoo.http import content_disposition, request


class MailCrmSyncGdprController(http.Controller):
    # A POST with the session's CSRF token (Odoo checks it for http routes; the web client's
    # download() posts it): the export reads the mailboxes and notes itself on the contact, so a
    # link or an image on another site must not start it. A GET answers 405.
    @http.route("/mail_crm_sync/partner/<int:partner_id>/export", type="http", auth="user", methods=["POST"])
    def export_partner_emails(self, partner_id, **_form):
        """The synced emails of a contact that the user may read, as a zip of .eml files with an
        index (res.partner._mail_sync_export): 404 for a contact the user may not read. The form's
        other fields (download()'s token) mean nothing here."""
        partner = request.env["res.partner"].browse(partner_id).exists()
        if not partner or not partner.has_access("read"):
            raise request.not_found()
        data, _count = partner._mail_sync_export()
        name = request.env._("Emails of %(name)s.zip", name=partner.display_name or partner.id)
        return request.make_response(
            data,
            [
                ("Content-Type", "application/zip"),
                ("Content-Length", str(len(data))),
                ("Content-Disposition", content_disposition(name)),
                ("Cache-Control", "private, no-store"),
            ],
        )
