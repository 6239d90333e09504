import base64
import email.utils
import logging

from markupsafe import Markup, escape
from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import email_normalize, format_datetime, is_html_empty

from mail_crm_sync_engine import (
    Address,
    AuthenticationFailed,
    Draft,
    MailSyncError,
    append_to_sent,
    blocked_attachments,
    compose,
    connect,
    reply_headers,
    send_message,
)

from ..models.notify import CLOSE, notification

_logger = logging.getLogger(__name__)

SUBJECT_PREFIX = {"reply": "Re: ", "reply_all": "Re: ", "forward": "Fwd: "}


class MailSyncCompose(models.TransientModel):
    """Write an email from the CRM through one of the user's mailboxes: a new email to a contact,
    company or opportunity, or a reply, reply to all or forward of a synced email.

    The mail goes out through the account's SMTP server; the same bytes are filed in the server's
    Sent folder (where the provider does not do it itself), and the email is in the CRM at once,
    on the record it was written from and on its recipients' contacts and opportunities.
    """

    _name = "mail.sync.compose"
    _description = "Write an Email"

    mode = fields.Selection(
        [("new", "New"), ("reply", "Reply"), ("reply_all", "Reply All"), ("forward", "Forward")],
        required=True,
        default="new",
        readonly=True,
    )
    parent_id = fields.Many2one("mail.sync.message", string="Original Email", readonly=True)
    res_model = fields.Char(readonly=True)
    res_id = fields.Integer(readonly=True)
    available_account_ids = fields.Many2many(
        "mail.sync.account", compute="_compute_available_account_ids", string="Available Accounts"
    )
    account_id = fields.Many2one(
        "mail.sync.account",
        string="Send From",
        domain="[('id', 'in', available_account_ids)]",
        required=True,
    )
    email_to = fields.Char(string="To", help="Addresses separated by commas: Name <name@example.com>")
    email_cc = fields.Char(string="Cc")
    email_bcc = fields.Char(string="Bcc")
    subject = fields.Char()
    body = fields.Html(sanitize_style=True)
    signature = fields.Html(compute="_compute_signature", string="Signature Added")
    quote = fields.Html(readonly=True, string="Quoted Email")
    attachment_ids = fields.Many2many("ir.attachment", string="Attachments")

    @api.model
    def _action_open(self, **defaults):
        """The window action of the composer, prefilled with ``defaults`` (mode, parent_id, res_model,
        res_id)."""
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Write an Email"),
            "res_model": self._name,
            "view_mode": "form",
            "views": [(False, "form")],
            "target": "new",
            "context": {f"default_{name}": value for name, value in defaults.items()},
        }

    @api.model
    def default_get(self, fields_list):
        values = super().default_get(fields_list)
        context = self.env.context
        parent = self.env["mail.sync.message"].browse(values.get("parent_id") or [])
        model = values.get("res_model") or context.get("active_model")
        record_id = values.get("res_id") or context.get("active_id")
        if not parent and model == "mail.sync.message" and record_id:
            parent = self.env["mail.sync.message"].browse(record_id)
            values["parent_id"] = parent.id
        accounts = self.env["mail.sync.account"]._sending_accounts()
        if not accounts:
            raise UserError(
                self.env._(
                    "You have no mail account to send from: open one of your accounts, fill in its "
                    "Outgoing tab and tick 'Send From This Account'."
                )
            )
        values.setdefault("account_id", accounts[:1].id)
        if parent:
            parent.check_access("read")
            values.update(self._reply_values(parent, values.get("mode") or "reply", accounts[:1]))
        elif model in ("res.partner", "crm.lead") and record_id:
            record = self.env[model].browse(record_id)
            record.check_access("read")
            values.update(res_model=model, res_id=record.id, email_to=self._record_address(record))
            if model == "crm.lead":
                values.setdefault("subject", record.name)
        return values

    @api.model
    def _record_address(self, record):
        if record._name == "crm.lead":
            if record.partner_id.email:
                return email.utils.formataddr((record.partner_id.name or "", record.partner_id.email))
            return email.utils.formataddr(
                (record.contact_name or record.partner_name or "", record.email_from or "")
            )
        return email.utils.formataddr((record.name or "", record.email or "")) if record.email else ""

    @api.model
    def _reply_values(self, parent, mode, account):
        own = account._own_addresses() if account else frozenset()
        subject = parent.subject or ""
        prefix = SUBJECT_PREFIX[mode]
        if not subject.lower().startswith(prefix.lower().strip()):
            subject = prefix + subject
        values = {"mode": mode, "subject": subject, "quote": self._quoted(parent, mode)}
        if mode == "forward":
            values["attachment_ids"] = [(6, 0, self._forwarded_attachments(parent).ids)]
            return values
        outgoing = parent.direction == "outgoing"
        to = parent.email_to if outgoing else (parent.reply_to or parent.email_from)
        values["email_to"] = to or ""
        if mode == "reply_all":
            others = (
                [parent.email_to or "", parent.email_cc or ""] if not outgoing else [parent.email_cc or ""]
            )
            seen = {address.lower() for _name, address in email.utils.getaddresses([values["email_to"]])}
            cc = []
            for name, address in email.utils.getaddresses(others):
                if address and address.lower() not in own and address.lower() not in seen:
                    seen.add(address.lower())
                    cc.append(email.utils.formataddr((name, address)))
            values["email_cc"] = ", ".join(cc)
        return values

    @api.model
    def _forwarded_attachments(self, parent):
        """The original's files, read from the server, ready to go with the forward (the user may
        remove them); those the server no longer gives are left out and said in the log."""
        attachments = self.env["ir.attachment"]
        for attachment in parent.attachment_ids.filtered(lambda item: not item.inline):
            try:
                content = attachment._fetch_content()
            except MailSyncError as error:
                _logger.info("Attachment %s not forwarded: %s", attachment.id, error)
                continue
            attachments |= attachments.create(
                {
                    "name": attachment._download_name(),
                    "raw": content,
                    "mimetype": attachment.content_type,
                    "res_model": self._name,
                    "res_id": 0,
                }
            )
        return attachments

    @api.model
    def _quoted(self, parent, mode):
        """The original below the new text, as mail clients quote it."""
        if mode == "forward":
            heading = self.env._(
                "---------- Forwarded message ----------<br/>From: %(sender)s<br/>Date: %(date)s<br/>"
                "Subject: %(subject)s<br/>To: %(to)s",
                sender=escape(parent.email_from or ""),
                date=format_datetime(self.env, parent.date) if parent.date else "",
                subject=escape(parent.subject or ""),
                to=escape(parent.email_to or ""),
            )
        else:
            heading = self.env._(
                "On %(date)s, %(sender)s wrote:",
                date=format_datetime(self.env, parent.date) if parent.date else "",
                sender=escape(parent.email_from or ""),
            )
        original = parent.body_html or Markup("<pre>%s</pre>") % (parent.body_text or "")
        return Markup(
            '<div class="mail_crm_sync_quote"><p>%s</p><blockquote style="margin:0 0 0 .8ex;'
            'border-left:1px solid #ccc;padding-left:1ex">%s</blockquote></div>'
        ) % (Markup(heading), original)

    @api.depends("account_id")
    def _compute_available_account_ids(self):
        accounts = self.env["mail.sync.account"]._sending_accounts()
        for wizard in self:
            wizard.available_account_ids = accounts

    @api.depends("account_id")
    @api.depends_context("uid")
    def _compute_signature(self):
        for wizard in self:
            signature = wizard.account_id.sudo().signature
            if is_html_empty(signature):
                signature = self.env.user.signature
            wizard.signature = False if is_html_empty(signature) else signature

    # -- sending ---------------------------------------------------------------------------------

    def action_send(self):
        self.ensure_one()
        account = self.account_id
        if not account or not account._may_send():
            raise UserError(self.env._("You may not send from this account."))
        to, cc, bcc = (self._addresses(text) for text in (self.email_to, self.email_cc, self.email_bcc))
        if not (to or cc or bcc):
            raise UserError(self.env._("Add at least one recipient."))
        self._check_attachments()
        origin = None
        if self.res_model in ("res.partner", "crm.lead") and self.res_id:
            origin = self.env[self.res_model].browse(self.res_id)
            origin.check_access("read")  # the sent email is linked to it
        outgoing = self._compose(account, to, cc, bcc)

        def send():
            send_message(account._smtp_settings(), outgoing.envelope_from, outgoing.recipients, outgoing.data)

        try:
            try:
                send()
            except AuthenticationFailed as refusal:
                # Refused at AUTH (or before MAIL FROM): nothing was sent. An OAuth account gets one
                # fresh token and one more try, as the sync does.
                if not account._retry_after_refusal(refusal):
                    raise
                send()
        except MailSyncError as error:
            raise UserError(account._error_message(error)) from error
        _logger.info("Mail %s sent from mail account %s", outgoing.message_id, account.id)
        location, warning = self._file_in_sent(account, outgoing)
        message = self.env["mail.sync.message"].sudo()._store_sent(account, outgoing, location, origin)
        _logger.debug("Stored sent mail as %s", message.id)
        return notification(
            warning or self.env._("Your email was sent."),
            kind="warning" if warning else "success",
            then=CLOSE,
        )

    def _addresses(self, text):
        addresses = []
        for name, address in email.utils.getaddresses([text or ""]):
            if not address:
                continue
            normalized = email_normalize(address)
            if not normalized:
                raise UserError(self.env._("%(address)s is not an email address.", address=address))
            addresses.append(Address(name, normalized))
        return tuple(addresses)

    def _check_attachments(self):
        blocked_extensions = self.env["res.config.settings"]._mail_sync_blocked_extensions()
        refused = blocked_attachments(self.attachment_ids.mapped("name"), blocked_extensions)
        if refused:
            raise UserError(
                self.env._(
                    "These files cannot be sent, their type is blocked (Settings: Blocked Attachment "
                    "Extensions): %(files)s",
                    files=", ".join(refused),
                )
            )

    def _html(self):
        parts = [self.body or ""]
        if self.signature:
            parts.append(Markup('<div class="mail_crm_sync_signature">-- <br/>%s</div>') % self.signature)
        if self.quote:
            parts.append(self.quote)
        return Markup("").join(Markup(part) for part in parts)

    def _compose(self, account, to, cc, bcc):
        threading = {}
        if self.parent_id and self.mode != "forward":
            parent = self.parent_id
            references = (parent.message_references or "").split()
            headers = reply_headers(parent.message_id_header or parent.message_id, references)
            threading = {"in_reply_to": headers.in_reply_to, "references": headers.references}
        attachments = tuple(
            (
                attachment.name,
                attachment.mimetype or "application/octet-stream",
                base64.b64decode(attachment.datas or b""),
            )
            for attachment in self.attachment_ids
        )
        try:
            return compose(
                Draft(
                    from_=Address(
                        self.env.user.name if account.account_type == "personal" else account.name,
                        account.email.lower(),
                    ),
                    to=to,
                    cc=cc,
                    bcc=bcc,
                    subject=self.subject or "",
                    html=str(self._html()),
                    attachments=attachments,
                    **threading,
                )
            )
        except ValueError as error:
            raise UserError(self.env._("The email could not be written: %(error)s", error=error)) from error

    def _file_in_sent(self, account, outgoing):
        """Put the sent bytes in the server's Sent folder; (where, a warning for the user or False)."""
        if account._files_sent_mail():
            return None, False
        try:
            with connect(account._connection_settings()) as mailbox:
                return append_to_sent(mailbox, outgoing.data, outgoing.message_id, outgoing.date), False
        except MailSyncError as error:
            _logger.info(
                "Sent copy of %s not filed in mail account %s: %s", outgoing.message_id, account.id, error
            )
            return None, self.env._(
                "Your email was sent, but its copy could not be put in the Sent folder of your mailbox: "
                "%(error)s",
                error=account._error_message(error),
            )
