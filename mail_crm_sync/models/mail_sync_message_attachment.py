from mail_crm_sync_engine import MessageGone, connect, fetch_part, name_for_part
from odoo import api, fields, models
from odoo.tools import SQL

# Opened in the browser when asked; everything else is downloaded.
INLINE_TYPES = {"image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf", "text/plain"}
# Shown in Odoo's file viewer from the email; text is opened in a tab (the viewer would run it as HTML).
VIEWER_TYPES = INLINE_TYPES - {"text/plain"}


def human_size(size):
    """12.3 KB: sizes as people read them (decimal units, as file managers and mail clients show)."""
    if not size:
        return ""
    if size < 1000:
        return f"{size} bytes"
    value = float(size)
    for unit in ("KB", "MB", "GB"):  # noqa: B007 - the unit reached is the one shown
        value /= 1000
        if value < 1000:
            break
    return f"{value:.1f} {unit}"


class MailSyncMessageAttachment(models.Model):
    _name = "mail.sync.message.attachment"
    _inherit = ["mail.sync.visibility.mixin"]
    _description = "Email Attachment"
    _order = "email_id, id"
    # Written by the sync only, from the email's structure: no audit columns and their foreign keys.
    _log_access = False

    email_id = fields.Many2one("mail.sync.message", required=True, ondelete="cascade", index=True)
    name = fields.Char(string="File Name", readonly=True)
    content_type = fields.Char(readonly=True)
    size = fields.Integer(string="Size in Bytes", readonly=True)
    size_display = fields.Char(string="Size", compute="_compute_size_display")
    part = fields.Char(
        string="Part Number", readonly=True, help="Where the bytes are on the server; fetched on demand."
    )
    content_id = fields.Char(string="Content-ID", readonly=True)
    inline = fields.Boolean(readonly=True)
    gone_from_server = fields.Boolean(related="email_id.gone_from_server")
    opens_in_viewer = fields.Boolean(
        compute="_compute_opens_in_viewer", help="An image or PDF that Odoo's file viewer shows."
    )

    def init(self):
        """Name the parts that emails synced before the engine named unnamed parts left without one
        (an attached email by its part number: its subject was not kept)."""
        self.env.cr.execute(
            "SELECT id, content_type, part FROM mail_sync_message_attachment WHERE coalesce(name, '') = ''"
        )
        rows = self.env.cr.fetchall()
        if rows:
            self.env.cr.execute(
                SQL(
                    """UPDATE mail_sync_message_attachment a SET name = t.name
                         FROM unnest(%s::int4[], %s::text[]) AS t(id, name) WHERE a.id = t.id""",
                    [row[0] for row in rows],
                    [name_for_part(content_type or "", part or "") for _id, content_type, part in rows],
                )
            )

    @api.depends("size")
    def _compute_size_display(self):
        for attachment in self:
            attachment.size_display = human_size(attachment.size)

    @api.depends("content_type", "name")
    def _compute_opens_in_viewer(self):
        for attachment in self:
            attachment.opens_in_viewer = (
                attachment.content_type or ""
            ).lower() in VIEWER_TYPES and attachment._opens_inline()

    def _visible_ids_sql(self):
        """Attachments follow their email."""
        visible = self._visible_messages_sql("email_id")
        return SQL("(SELECT id FROM mail_sync_message_attachment WHERE %s)", visible)

    def action_download(self):
        self.ensure_one()
        self.check_access("read")
        return {"type": "ir.actions.act_url", "url": f"/mail_crm_sync/attachment/{self.id}", "target": "new"}

    def _fetch_content(self):
        """The attachment's bytes, read from the server (they are not stored) through the first location
        that still holds its email. Raises MessageGone when none does, another MailSyncError when
        the server cannot be reached."""
        self.ensure_one()
        message = self.email_id
        locations = message.sudo().location_ids.sorted(lambda location: (location.gone, location.id))
        error = MessageGone("The email is not in any synced folder any more.")
        for location in locations:
            try:
                with connect(location.account_id._connection_settings()) as mailbox:
                    return fetch_part(
                        mailbox,
                        location.folder_id.name,
                        location.uidvalidity,
                        location.uid,
                        self.part,
                        message_id=None if message.message_id_synthetic else message.message_id,
                    )
            except MessageGone as gone:
                error = gone
        raise error

    def _download_name(self):
        return self.name or name_for_part(self.content_type or "", self.part or "")

    def _opens_inline(self):
        """Whether the browser may show it rather than download it: a harmless type, and no
        blocked extension anywhere in its name (invoice.pdf.exe)."""
        blocked = self.env["res.config.settings"]._mail_sync_blocked_extensions()
        extensions = set(self._download_name().lower().split(".")[1:])
        return (self.content_type or "").lower() in INLINE_TYPES and not extensions & blocked
