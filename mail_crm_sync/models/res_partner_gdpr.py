"""Per-contact export and erasure of synced mail (GDPR): what the CRM holds of one person's mail."""

import csv
import email.errors
import io
import logging
import re
import zipfile
from collections import defaultdict
from datetime import UTC
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime

from odoo import fields, models
from odoo.exceptions import AccessError
from odoo.tools import SQL, email_normalize_all

from mail_crm_sync_engine import MailSyncError, MessageGone, connect, fetch_message

from .mail_sync_message import ADDRESS_ARRAY
from .mail_sync_message_attachment import human_size

_logger = logging.getLogger(__name__)

# Header of the .eml files rebuilt from what the CRM stored, where the server no longer has the mail.
REBUILT_HEADER = "X-Mail-CRM-Sync-Rebuilt"


# Its own file on purpose: the GDPR feature reads as one file, apart from res_partner.py's email tab.
class ResPartner(models.Model):
    _inherit = "res.partner"  # pylint: disable=consider-merging-classes-inherited

    def action_mail_sync_export(self):
        """Download the synced emails that mention this contact's addresses, as far as the user may
        read them: .eml files in a zip, with an index (the route builds it). The web client posts
        to the route with its CSRF token (the export is noted on the contact), then shows the note."""
        self.ensure_one()
        self.check_access("read")
        return {
            "type": "ir.actions.client",
            "tag": "mail_crm_sync_download",
            "params": {"url": f"/mail_crm_sync/partner/{self.id}/export", "reload": True},
        }

    def action_mail_sync_erase(self):
        """The confirmation of an erasure, with how many emails it removes."""
        self.ensure_one()
        self._mail_sync_check_erase()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Erase Emails"),
            "res_model": "mail.sync.erase",
            "view_mode": "form",
            "views": [(False, "form")],
            "target": "new",
            "context": {"default_partner_id": self.id},
        }

    def _mail_sync_addresses(self):
        """This contact's own addresses, normalized (the email field may hold several)."""
        self.ensure_one()
        return sorted(set(email_normalize_all(self.email or "")))

    def _mail_sync_email_ids(self):
        """Ids of all synced emails whose From, To or Cc holds one of this contact's addresses,
        whoever may read them (the GIN index of the addresses answers)."""
        addresses = self._mail_sync_addresses()
        if not addresses:
            return []
        self.env["mail.sync.message"].flush_model(["address_emails"])
        self.env.cr.execute(
            SQL(
                "SELECT id FROM mail_sync_message WHERE %s && %s::text[] ORDER BY id",
                ADDRESS_ARRAY,
                addresses,
            )
        )
        return [message_id for (message_id,) in self.env.cr.fetchall()]

    # -- export -----------------------------------------------------------------------------------

    def _mail_sync_export(self):
        """(zip bytes, number of emails): the emails mentioning this contact's addresses that the
        current user may read (administrators: all), one .eml each, whole from the mail server
        where it still has them (read-only), else rebuilt from what the CRM stored; and index.csv.
        Logged on the contact's chatter."""
        self.ensure_one()
        self.check_access("read")
        messages = self.env["mail.sync.message"].search(
            [("id", "in", self._mail_sync_email_ids())], order="date, id"
        )
        from_server = self._mail_sync_raw_from_server(messages)
        buffer = io.BytesIO()
        index = io.StringIO()
        writer = csv.writer(index)
        writer.writerow(["date", "from", "to", "subject", "file", "source"])
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for number, message in enumerate(messages, start=1):
                name = _eml_name(number, message)
                raw = from_server.get(message.id)
                source = "server" if raw else "rebuilt"
                archive.writestr(name, raw or _rebuilt_eml(message.sudo()))
                writer.writerow(
                    [
                        message.date.isoformat(sep=" ") if message.date else "",
                        _cell(message.email_from),
                        _cell(message.email_to),
                        _cell(message.subject),
                        name,
                        source,
                    ]
                )
            archive.writestr("index.csv", index.getvalue().encode("utf-8-sig"))
        self.sudo().message_post(
            body=self.env._(
                "Exported %(count)s synced emails (EML files in a zip) for %(user)s.",
                count=len(messages),
                user=self.env.user.name,
            ),
            author_id=self.env.user.partner_id.id,
            message_type="comment",
            subtype_xmlid="mail.mt_note",
        )
        return buffer.getvalue(), len(messages)

    def _mail_sync_raw_from_server(self, messages):
        """{email id: the whole message as its mail server holds it}, for those the servers still
        have: one connection per account, BODY.PEEK[] (nothing in the mailbox changes). An account
        that cannot be reached leaves its emails to be rebuilt."""
        places = defaultdict(list)
        for message in messages.sudo():
            for location in message.location_ids.sorted(lambda location: (location.gone, location.id)):
                places[location.account_id].append((message, location))
        raw = {}
        for account, found in places.items():
            try:
                with connect(account._connection_settings()) as mailbox:
                    for message, location in found:
                        if message.id in raw:
                            continue
                        try:
                            raw[message.id] = fetch_message(
                                mailbox,
                                location.folder_id.name,
                                location.uidvalidity,
                                location.uid,
                                message_id=None
                                if message.message_id_synthetic
                                else message.message_id_header or message.message_id,
                            )
                        except MessageGone:
                            continue
            except MailSyncError as error:
                _logger.info("Export: mail account %s could not be read: %s", account.id, error)
        return raw

    # -- erasure ----------------------------------------------------------------------------------

    def _mail_sync_check_erase(self):
        if not self.env.user.has_group("mail_crm_sync.group_mail_sync_erase"):
            raise AccessError(self.env._("Only members of the group “Erase Emails (GDPR)” may erase emails."))

    def _mail_sync_erase(self):
        """Erase from the CRM every synced email mentioning this contact's addresses, whoever may
        read it, with what belongs to it (links, attachment lists, files kept in Odoo, places on
        servers); leave tombstones so that no sync stores them again; log who and how many on the
        contact. The mailboxes on the servers are not touched. Returns the number erased."""
        self.ensure_one()
        self._mail_sync_check_erase()
        messages = self.env["mail.sync.message"].sudo().browse(self._mail_sync_email_ids())
        self.env["mail.sync.tombstone"].sudo()._bury(messages.mapped("message_id"), self)
        count = len(messages)
        messages.unlink()
        self.sudo().message_post(
            body=self.env._(
                "%(count)s synced emails mentioning %(addresses)s were erased from the CRM by %(user)s on "
                "%(date)s (GDPR), with their links and attachments. The mailboxes on the mail servers "
                "were not changed; these emails will not be synced again.",
                count=count,
                addresses=", ".join(self._mail_sync_addresses()),
                user=self.env.user.name,
                date=fields.Datetime.now().strftime("%Y-%m-%d %H:%M UTC"),
            ),
            author_id=self.env.user.partner_id.id,
            message_type="comment",
            subtype_xmlid="mail.mt_note",
        )
        _logger.info("User %s erased %s synced emails of contact %s", self.env.uid, count, self.id)
        return count


def _cell(text):
    """A value of index.csv that a spreadsheet shows as text, never runs as a formula."""
    text = text or ""
    return f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _eml_name(number, message):
    day = message.date.strftime("%Y-%m-%d") if message.date else "undated"
    subject = re.sub(r"[^\w.-]+", "_", message.subject or "no_subject").strip("._")[:60] or "no_subject"
    return f"{number:04d}_{day}_{subject}.eml"


def _rebuilt_eml(message):
    """An .eml made from what the CRM stored of an email the server no longer has: its headers,
    text and HTML, the files kept in Odoo; the other attachments are listed in the text."""
    eml = EmailMessage(policy=policy.SMTP)
    headers = [
        ("From", message.email_from),
        ("To", message.email_to),
        ("Cc", message.email_cc),
        ("Reply-To", message.reply_to),
        ("Subject", message.subject),
        ("Date", format_datetime(message.date.replace(tzinfo=UTC)) if message.date else None),
        (
            "Message-ID",
            None if message.message_id_synthetic else message.message_id_header or message.message_id,
        ),
        ("In-Reply-To", message.in_reply_to),
        ("References", message.message_references),
    ]
    for name, value in headers:
        if value:
            try:
                eml[name] = value.replace("\n", " ")
            except (ValueError, email.errors.MessageError):
                eml[f"X-Original-{name}"] = value.replace("\n", " ")
    eml[REBUILT_HEADER] = "rebuilt from the CRM's copy: the mail server no longer holds this email"
    kept = message.attachment_ids.filtered("pinned_attachment_id")
    missing = message.attachment_ids - kept
    text = message.body_text or ""
    if missing:
        text += "\n\n-- \nAttachments not kept (the mail server no longer holds them):\n" + "".join(
            f"- {attachment._download_name()} ({human_size(attachment.size)})\n" for attachment in missing
        )
    eml.set_content(text)
    if message.body_html_source:
        eml.add_alternative(message.body_html_source, subtype="html")
    for attachment in kept:
        maintype, _slash, subtype = (attachment.content_type or "").lower().partition("/")
        if maintype in ("", "multipart", "message"):  # kept as the bytes they are
            maintype, subtype = "application", "octet-stream"
        eml.add_attachment(
            attachment.pinned_attachment_id.raw,
            maintype=maintype,
            subtype=subtype or "octet-stream",
            filename=attachment._download_name(),
        )
    return eml.as_bytes()
