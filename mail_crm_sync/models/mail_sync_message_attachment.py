import logging

from odoo import api, fields, models
from odoo.tools import SQL

from mail_crm_sync_engine import (
    MailSyncError,
    MessageGone,
    connect,
    fetch_part,
    file_extensions,
    is_blocked,
    name_for_part,
    plain_name,
)

from .notify import notification

_logger = logging.getLogger(__name__)

# The types a browser may show (not SVG: it runs scripts), each under the extensions that name it;
# everything else is downloaded.
INLINE_TYPES = {
    "application/pdf": {"pdf"},
    "image/png": {"png"},
    "image/jpeg": {"jpg", "jpeg", "jpe", "jfif"},
    "image/gif": {"gif"},
    "image/webp": {"webp"},
    "text/plain": {"txt", "text", "log"},
}
# Shown in Odoo's file viewer from the email; text is opened in a tab (the viewer would run it as HTML).
VIEWER_TYPES = set(INLINE_TYPES) - {"text/plain"}


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
    # Kept in Odoo ("pinned"): an ir.attachment of the email, so that Odoo's attachment access
    # follows the email's; served before the server's copy, and after the server lost it.
    pinned_attachment_id = fields.Many2one(
        "ir.attachment", string="Kept File", readonly=True, ondelete="set null"
    )
    is_pinned = fields.Boolean(
        string="Kept in Odoo",
        compute="_compute_is_pinned",
        help="The file is stored in Odoo: it downloads even once the email left the mail server.",
    )
    pin_requested = fields.Boolean(
        readonly=True,
        index="btree_not_null",
        help="To be kept in Odoo by the next run of the scheduled action.",
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
            attachment.opens_in_viewer = attachment._inline_type() in VIEWER_TYPES

    @api.depends("pinned_attachment_id")
    def _compute_is_pinned(self):
        for attachment in self:
            attachment.is_pinned = bool(attachment.pinned_attachment_id)

    def _visible_ids_sql(self):
        """Attachments follow their email."""
        visible = self._visible_messages_sql(SQL.identifier("t", "email_id"))
        return SQL("(SELECT t.id FROM mail_sync_message_attachment t WHERE %s)", visible)

    def action_download(self):
        self.ensure_one()
        self.check_access("read")
        return {
            "type": "ir.actions.act_url",
            "url": f"/mail_crm_sync/attachment/{self.id}?download=1",
            "target": "new",
        }

    def action_pin(self):
        """Keep the bytes of these attachments in Odoo, read from the mail server now."""
        self.check_access("read")
        failures = self.sudo()._pin()
        kept = len(self) - len(failures)
        if failures:
            message = self.env._(
                "%(kept)s of %(total)s files kept in Odoo. Not kept: %(reasons)s",
                kept=kept,
                total=len(self),
                reasons="; ".join(
                    f"{attachment._download_name()}: {reason}" for attachment, reason in failures
                ),
            )
        else:
            message = (
                self.env._("1 file kept in Odoo: it downloads even once the email left the server.")
                if kept == 1
                else self.env._(
                    "%(count)s files kept in Odoo: they download even once the email left the server.",
                    count=kept,
                )
            )
        return notification(message, kind="warning" if failures else "success", sticky=bool(failures))

    def _content(self):
        """The attachment's bytes: the copy kept in Odoo, else the server's (``_fetch_content``)."""
        self.ensure_one()
        if self.sudo().pinned_attachment_id:
            return self.sudo().pinned_attachment_id.raw
        return self._fetch_content()

    def _pin(self):
        """Store the bytes of these attachments (not kept yet) as ir.attachment records of their
        email, one server connection per file; clears their request. Returns [(attachment, reason)]
        of those the server could not give; a request stays only where the server could not be
        reached (the next run tries again), not where the email is gone."""
        failures = []
        for attachment in self.filtered(lambda record: not record.pinned_attachment_id):
            try:
                content = attachment._fetch_content()
            except MessageGone as error:
                failures.append((attachment, str(error)))
                attachment.pin_requested = False
                continue
            except MailSyncError as error:
                _logger.info("Attachment %s could not be kept: %s", attachment.id, error)
                account = attachment.email_id.location_ids[:1].account_id
                failures.append((attachment, account._error_message(error) if account else str(error)))
                continue
            # The MIME type stays on this record, for the download route's safe headers; Odoo's own
            # /web/content serves the copy as a download only.
            pinned = self.env["ir.attachment"].create(
                {
                    "name": attachment._download_name(),
                    "raw": content,
                    "mimetype": "application/octet-stream",
                    "res_model": "mail.sync.message",
                    "res_id": attachment.email_id.id,
                }
            )
            attachment.write({"pinned_attachment_id": pinned.id, "pin_requested": False})
        return failures

    @api.model
    def _request_pins_of_won(self, leads):
        """Where Settings say so, ask the scheduled action to keep the attachments of the emails of
        these opportunities, just won: reading them from the server may take a while, and the
        salesman's click does not wait for it (nor fail with it)."""
        if not leads or not self.env["res.config.settings"]._mail_sync_pin_won():
            return
        linked = self.env["mail.sync.message.link"]._emails_by_target("lead_id", leads.ids)
        email_ids = sorted(set().union(*linked.values()))
        if not email_ids:
            return
        self.env.cr.execute(
            SQL(
                "UPDATE mail_sync_message_attachment SET pin_requested = true "
                "WHERE email_id = ANY(%s) AND pinned_attachment_id IS NULL AND pin_requested IS NOT TRUE",
                email_ids,
            )
        )
        if self.env.cr.rowcount:
            self.invalidate_model(["pin_requested"])
            self.env.ref("mail_crm_sync.ir_cron_mail_pin_attachments").sudo()._trigger()

    @api.model
    def _cron_pin_requested(self, chunk_size=100):
        """Keep in Odoo the attachments asked for (of opportunities won), a chunk per call: the
        scheduler calls again while the progress reported says some remain."""
        requested = self.search(
            [("pin_requested", "=", True), ("pinned_attachment_id", "=", False)], order="id", limit=chunk_size
        )
        failures = requested._pin()
        remaining = 0
        if len(requested) == chunk_size and len(failures) < chunk_size:
            remaining = self.search_count(
                [("pin_requested", "=", True), ("pinned_attachment_id", "=", False)]
            )
        self.env["ir.cron"]._notify_progress(done=len(requested) - len(failures), remaining=remaining)

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
                        message_id=None
                        if message.message_id_synthetic
                        else message.message_id_header or message.message_id,
                    )
            except MessageGone as gone:
                error = gone
        raise error

    def _download_name(self):
        """The name to show and save: without direction overrides, it reads as what it is."""
        return plain_name(self.name or name_for_part(self.content_type or "", self.part or ""))

    def _inline_type(self):
        """The type the browser may show it as, "" when it is downloaded: a harmless type, under a
        name whose last extension, if any, says that type, and no blocked extension anywhere in
        the name as Windows reads it (the check sending makes: invoice.pdf.exe, "a.exe ",
        a.exe::$DATA)."""
        content_type = (self.content_type or "").split(";")[0].strip().lower()
        name = self._download_name()
        extensions = file_extensions(name)
        if content_type not in INLINE_TYPES or (
            extensions and extensions[-1] not in INLINE_TYPES[content_type]
        ):
            return ""
        blocked = self.env["res.config.settings"]._mail_sync_blocked_extensions()
        return "" if is_blocked(name, blocked) else content_type
