import base64
import datetime
import logging
import re

from markupsafe import Markup, escape
from odoo import api, fields, models
from odoo.tools import email_normalize, format_datetime, is_html_empty

from mail_crm_sync_engine import (
    Address,
    Draft,
    MailSyncError,
    blocked_attachments,
    compose,
    reply_headers,
)
from mail_crm_sync_engine.compose import format_addresses, read_addresses
from mail_crm_sync_engine.parse import html_to_text

from ..exceptions import MailSyncRedirectWarning, MailSyncUserError
from ..models.notify import CLOSE, notification

_logger = logging.getLogger(__name__)

SUBJECT_PREFIX = {"reply": "Re: ", "reply_all": "Re: ", "forward": "Fwd: "}
# The description of the files a template's reports gave the composer: a later template's replace them.
TEMPLATE_REPORT = "mail_crm_sync: printed by the email template"
# One item of a stored address list (see mail_sync_message._addresses): "Name <address>" (the name
# unquoted, the last <...> is the address) or a bare address.
_STORED_NAMED_RE = re.compile(r"(.*?)\s*<([^<>\s]+)>")
_STORED_BARE_RE = re.compile(r"[^\s,<>]+@[^\s,<>]+")


def _stored_addresses(stored, known):
    """The (name, address) pairs of a stored From/To/Cc/Reply-To value. Names are stored unquoted
    and may hold ", ", an @ or <...>: an item counts as an address only where the email had that
    address (``known``, lowercase); otherwise it is part of the next name, so a display name never
    adds a recipient. A value without any <...> holds no name: each of its items is an address."""
    if "<" not in (stored or ""):
        known = {piece.strip().lower() for piece in (stored or "").split(", ")}
    addresses, name = [], []
    for item in (stored or "").split(", "):
        piece = item.strip()
        named = _STORED_NAMED_RE.fullmatch(piece)
        if named and named[2].lower() in known:
            addresses.append(Address(", ".join([*name, named[1]]), named[2].lower()))
            name = []
        elif not name and _STORED_BARE_RE.fullmatch(piece) and piece.lower() in known:
            addresses.append(Address("", piece.lower()))
        else:
            name.append(piece)
    return addresses


class MailSyncCompose(models.Model):
    """Write an email from the CRM through one of the user's mailboxes: a new email to a contact,
    company or opportunity, or a reply, reply to all or forward of a synced email.

    A composer that was saved is a draft: the form saves it as the user types and when its dialog
    closes (``static/src/compose``), so Discard aside, nothing typed is lost to a closed tab or a
    failed send. Drafts are their author's alone (``mail_sync_compose_rule_author``) and are listed
    under CRM > Emails > Drafts; Send takes the draft away with the email it queues.

    Send queues the mail in the outbox (mail_sync_outbox.py), which sends it through the account's
    SMTP server after the request commits and files the same bytes in the server's Sent folder
    (where the provider does not do it itself); the email is in the CRM at once, queued, on the
    record it was written from and on its recipients' contacts and opportunities.
    """

    _name = "mail.sync.compose"
    _description = "Write an Email"
    _order = "write_date desc, id desc"
    _rec_name = "subject"

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
    # Recipients as Odoo's composer has them: contacts as tags where a contact exists, and the
    # addresses of no contact typed beside them.
    partner_to_ids = fields.Many2many(
        "res.partner", "mail_sync_compose_partner_to_rel", "compose_id", "partner_id", string="To"
    )
    partner_cc_ids = fields.Many2many(
        "res.partner", "mail_sync_compose_partner_cc_rel", "compose_id", "partner_id", string="Cc"
    )
    partner_bcc_ids = fields.Many2many(
        "res.partner", "mail_sync_compose_partner_bcc_rel", "compose_id", "partner_id", string="Bcc"
    )
    email_to = fields.Char(
        string="To (other addresses)",
        help="Addresses of no contact, separated by commas: Name <name@example.com>",
    )
    email_cc = fields.Char(string="Cc (other addresses)")
    email_bcc = fields.Char(string="Bcc (other addresses)")
    subject = fields.Char()
    body = fields.Html(sanitize_style=True)
    signature = fields.Html(compute="_compute_signature", string="Signature Added")
    quote = fields.Html(readonly=True, string="Quoted Email")
    attachment_ids = fields.Many2many("ir.attachment", string="Attachments")
    send_at = fields.Datetime(
        help="Leave empty to send now; until this moment, Undo Send on the email keeps it."
    )
    template_model = fields.Char(compute="_compute_template_model", string="Templates For")
    template_id = fields.Many2one(
        "mail.template",
        domain="[('model', '=', template_model)]",
        help="One of Odoo's email templates, written for the contact or opportunity: it replaces the "
        "text (a reply's quote stays below it). Your signature is added when you send.",
    )

    regarding = fields.Char(compute="_compute_regarding", help="What the email answers or is written to.")

    @api.depends("res_model", "res_id", "parent_id")
    def _compute_regarding(self):
        for draft in self:
            record = draft._origin_record()
            if record:
                draft.regarding = record.display_name
            elif draft.parent_id:
                draft.regarding = draft.parent_id.display_name
            else:
                draft.regarding = False

    def _origin_record(self):
        """The contact or opportunity the email is written from, if the user may still read it."""
        if self.res_model not in ("res.partner", "crm.lead") or not self.res_id:
            return None
        record = self.env[self.res_model].browse(self.res_id).exists()
        return record if record and record.has_access("read") else None

    def action_open_draft(self):
        """A draft in the composer, as it was left."""
        self.ensure_one()
        return {**self._action_open(), "res_id": self.id, "context": {}}

    def action_discard_draft(self):
        """Discard: the draft goes, with the files uploaded for it alone."""
        uploaded = self.attachment_ids.filtered(
            lambda item: item.res_model == self._name and item.res_id in (0, *self.ids)
        )
        uploaded.unlink()
        self.unlink()
        return CLOSE

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
            raise self._no_account_to_send_from()
        values.setdefault("account_id", accounts[:1].id)
        if parent:
            parent.check_access("read")
            values.update(self._reply_values(parent, values.get("mode") or "reply", accounts[:1]))
        elif model in ("res.partner", "crm.lead") and record_id:
            record = self.env[model].browse(record_id)
            record.check_access("read")
            values.update(res_model=model, res_id=record.id, **self._record_recipient(record))
            if model == "crm.lead":
                values.setdefault("subject", record.name)
        return values

    @api.model
    def _no_account_to_send_from(self):
        """The warning for a user with no account to send from, with a button to where they fix it:
        their own account that does not send, on its Outgoing tab; their own account that sends but
        is not connected; else Connect a Mail Account."""
        title = self.env._("No Account to Send From")
        own = self.env["mail.sync.account"].search(
            [("user_id", "=", self.env.uid)], order="is_primary desc, id"
        )
        not_sending = own.filtered(lambda account: not account.sending_enabled)[:1]
        if not_sending:
            action = self.env["ir.actions.actions"]._for_xml_id(
                "mail_crm_sync.mail_sync_account_action_outgoing"
            )
            action["res_id"] = not_sending.id
            return MailSyncRedirectWarning(
                self.env._(
                    "Your mail account %(account)s does not send yet: on its Outgoing (SMTP) tab, tick "
                    "'Send From This Account', fill in the SMTP server and save.",
                    account=not_sending.display_name,
                ),
                action,
                self.env._("Set Up Sending"),
                title,
            )
        if own:
            action = self.env["ir.actions.actions"]._for_xml_id("mail_crm_sync.mail_sync_account_action")
            action.update(res_id=own[:1].id, view_mode="form", views=[(False, "form")])
            return MailSyncRedirectWarning(
                self.env._(
                    "Your mail account %(account)s is not connected: open it and connect it again to "
                    "send from it.",
                    account=own[:1].display_name,
                ),
                action,
                self.env._("Open the Account"),
                title,
            )
        return MailSyncRedirectWarning(
            self.env._(
                "You have no mail account yet: connect your mailbox, with its Outgoing (SMTP) server, "
                "to write emails from the CRM."
            ),
            self.env["ir.actions.actions"]._for_xml_id("mail_crm_sync.mail_sync_account_action_connect"),
            self.env._("Connect a Mail Account"),
            title,
        )

    @api.model
    def _record_recipient(self, record):
        """The To of an email written from a contact or opportunity: the contact as a tag, or, for
        an opportunity whose address is no contact's, that address as text (the name as people
        write it, quoted where it must be, on one line)."""
        person = record.partner_id if record._name == "crm.lead" else record
        if email_normalize(person.email or ""):
            return {"partner_to_ids": [(6, 0, person.ids)]}
        if record._name != "crm.lead":
            return {}
        address = email_normalize(record.email_from or "", strict=False)
        name = record.contact_name or record.partner_name or ""
        return {"email_to": format_addresses([Address(name, address)])} if address else {}

    @api.model
    def _as_contacts(self, addresses):
        """``addresses`` split into the contacts the user sees under them (one per address: a
        person before a company, then the oldest) and those of no contact."""
        found = self.env["res.partner"].search(
            [("email_normalized", "in", [address.email for address in addresses])],
            order="is_company, id",
        )
        contact_of = {}
        for partner in found:
            contact_of.setdefault(partner.email_normalized, partner)
        contacts, others = self.env["res.partner"], []
        for address in addresses:
            if address.email in contact_of:
                contacts |= contact_of[address.email]
            else:
                others.append(address)
        return contacts, others

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
        # Addresses as the email had them: those of From, To and Cc are known; of a Reply-To, the
        # last one (the one a name cannot hide).
        known = set((parent.address_emails or "").split())
        outgoing = parent.direction == "outgoing"
        if outgoing:
            to = _stored_addresses(parent.email_to, known)
        elif parent.reply_to:
            last = parent.reply_to.rpartition("<")[2].rstrip(">").strip().lower()
            to = _stored_addresses(parent.reply_to, {last})
        else:
            to = _stored_addresses(parent.email_from, known)
        contacts, to = self._as_contacts(to)
        values.update(partner_to_ids=[(6, 0, contacts.ids)], email_to=format_addresses(to))
        if mode == "reply_all":
            others = [parent.email_cc] if outgoing else [parent.email_to, parent.email_cc]
            seen = {address.email for address in to} | set(contacts.mapped("email_normalized")) | own
            cc = []
            for address in (item for stored in others for item in _stored_addresses(stored, known)):
                if address.email not in seen:
                    seen.add(address.email)
                    cc.append(address)
            contacts, cc = self._as_contacts(cc)
            values.update(partner_cc_ids=[(6, 0, contacts.ids)], email_cc=format_addresses(cc))
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

    @api.depends("res_model", "res_id", "parent_id")
    def _compute_template_model(self):
        for wizard in self:
            record = wizard._template_record()
            wizard.template_model = record._name if record else False

    @api.onchange("template_id")
    def _onchange_template_id(self):
        """Odoo's composer habit: the template, rendered for the record in its language,
        replaces the text (and a new email's subject; a reply keeps its "Re:"), and its files join
        the attachments in place of those of the template chosen before."""
        self.attachment_ids -= self.attachment_ids.filtered(
            lambda item: item.res_model == "mail.template" or item.description == TEMPLATE_REPORT
        )
        template, record = self.template_id, self._template_record()
        if not (template and record) or template.model != record._name:
            return
        # The template's language for the record (its Language field, e.g. the contact's), else the user's.
        lang = (template.lang and template._render_lang(record.ids)[record.id]) or self.env.user.lang
        if self.mode == "new" and template.subject:
            self.subject = template._render_field("subject", record.ids, set_lang=lang)[record.id]
        body = template._render_field("body_html", record.ids, set_lang=lang)[record.id]
        self.body = self._without_signatures(body, record)  # sanitized by the field
        self.attachment_ids |= template.attachment_ids | self._template_reports(template, record)

    def _template_reports(self, template, record):
        """The reports the template prints for the record (a quotation's PDF), as files of this
        composer: uploaded for it alone, as the user's own uploads are (Discard removes them)."""
        if not template.report_template_ids:
            return self.env["ir.attachment"]
        rendered = template._generate_template_attachments(record.ids, ["report_template_ids"])
        return self.env["ir.attachment"].create(
            [
                {
                    "name": name,
                    "datas": content,
                    "res_model": self._name,
                    "res_id": 0,
                    "description": TEMPLATE_REPORT,
                }
                for name, content in rendered[record.id].get("attachments", [])
            ]
        )

    def _template_record(self):
        """The record templates are rendered for: the one the email is written from; for a reply or
        forward, the opportunity the original is linked to, else its one contact person; or none."""
        if self.res_model in ("res.partner", "crm.lead") and self.res_id:
            return self.env[self.res_model].browse(self.res_id)
        leads, partners = self.parent_id.lead_ids, self.parent_id.partner_ids
        people = partners - partners.parent_id
        return leads if len(leads) == 1 else people if len(people) == 1 else None

    def _without_signatures(self, html, record):
        """A template's body without the signatures it prints (``object.user_id.signature``,
        ``user.signature``), with a "-- " line just above them: the signature is added once, at
        send time, from the sending account or the user (``_html``). Rendering adds attributes to
        tags (quote marks), so a signature is matched by its tags' names and its words."""
        html = str(html)
        for signature in {self.signature, self.env.user.signature, record.user_id.signature}:
            if is_html_empty(signature):
                continue
            parts = [r"(?:--\s*<br\b[^>]*>)?"]
            for piece in re.split(r"(<[^>]*>)", str(signature)):
                tag = re.match(r"<\s*(/?)\s*(\w+)", piece)
                if tag:
                    parts.append(rf"<{tag[1]}{tag[2]}\b[^>]*>")
                elif piece.strip():
                    parts.append(r"\s+".join(re.escape(word) for word in piece.split()))
            html = re.sub(r"\s*".join(parts), "", html)
        return Markup(html)

    # -- sending ---------------------------------------------------------------------------------

    def action_send(self):
        self.ensure_one()
        account = self.account_id
        if not account or not account._may_send():
            raise MailSyncUserError(
                self.env._("You may not send from this account."), self.env._("Not Allowed")
            )
        to, cc, bcc = self._recipients()
        if not (to or cc or bcc):
            raise MailSyncUserError(
                self.env._("Add at least one recipient."), self.env._("Check the Recipients")
            )
        now = fields.Datetime.now()
        if self.send_at and self.send_at <= now:
            raise MailSyncUserError(
                self.env._("Send At is in the past: choose a moment to come, or empty it to send now."),
                self.env._("Check the Date"),
            )
        undo_seconds = self.env["res.config.settings"]._mail_sync_undo_send_seconds()
        due = self.send_at or (now + datetime.timedelta(seconds=undo_seconds) if undo_seconds else None)
        self._check_attachments()
        origin = None
        if self.res_model in ("res.partner", "crm.lead") and self.res_id:
            origin = self.env[self.res_model].browse(self.res_id)
            origin.check_access("read")  # the sent email is linked to it
        outgoing = self._compose(account, to, cc, bcc)
        # Queued in this request's transaction; the SMTP server hears of it only after the commit
        # (mail_sync_outbox.py): a request Odoo runs again queues one email, never sends two.
        # What the composer holds goes with it: Undo Send opens it again.
        held = {
            "mode": self.mode,
            "parent_id": self.parent_id.id,
            "res_model": self.res_model,
            "res_id": self.res_id,
            "account_id": account.id,
            **{name: str(self[name] or "") for name in ("email_to", "email_cc", "email_bcc", "subject")},
            **{name: str(self[name] or "") for name in ("body", "quote")},
            **{
                name: [(6, 0, self[name].ids)]
                for name in ("partner_to_ids", "partner_cc_ids", "partner_bcc_ids")
            },
            "attachment_ids": self.attachment_ids.ids,
            "template_id": self.template_id.id,
            "send_at": fields.Datetime.to_string(self.send_at) if self.send_at else False,
        }
        row = self.env["mail.sync.outbox"]._queue(account, outgoing, origin, due, held)
        scheduled = bool(self.send_at)
        self.unlink()  # the draft is the queued email now
        _logger.info("Mail %s queued in mail account %s, due %s", outgoing.message_id, account.id, due)
        if not due or not row.email_id:
            return notification(
                self.env._("Your email is queued and being sent; its state shows on the email."),
                kind="info",
                then=CLOSE,
            )
        if scheduled:
            message = self.env._(
                "Your email is scheduled for %(moment)s. Until then, Undo Send on the email keeps it.",
                moment=format_datetime(self.env, due),
            )
        else:
            message = self.env._(
                "Your email goes in %(seconds)s seconds: Undo Send on the email takes it back.",
                seconds=undo_seconds,
            )
        return notification(message, kind="info", then=row.email_id._action_open_queued())

    def _recipients(self):
        """To, Cc and Bcc as (name, address) pairs: the contacts' tags, then the addresses typed
        beside them; an address goes once, in the first field that has it."""
        seen, fields_read = set(), []
        for partners, text in (
            (self.partner_to_ids, self.email_to),
            (self.partner_cc_ids, self.email_cc),
            (self.partner_bcc_ids, self.email_bcc),
        ):
            addresses = []
            for address in (*self._contact_addresses(partners), *self._addresses(text)):
                if address.email not in seen:
                    seen.add(address.email)
                    addresses.append(address)
            fields_read.append(tuple(addresses))
        return fields_read

    def _contact_addresses(self, partners):
        addresses = []
        for partner in partners:
            address = email_normalize(partner.email or "")
            if not address:
                raise MailSyncUserError(
                    self.env._(
                        "%(contact)s has no valid email address: fill it in on the contact, or type "
                        "the address beside the contacts.",
                        contact=partner.display_name,
                    ),
                    self.env._("Check the Recipients"),
                )
            addresses.append(Address(partner.name or "", address))
        return addresses

    def _addresses(self, text):
        """The recipients typed in one field, read strictly (``read_addresses``): what the field
        visibly holds, each name on one line."""
        try:
            read = read_addresses(text or "")
        except ValueError as error:
            _logger.info("Recipients not read: %s", error)
            raise MailSyncUserError(
                self.env._(
                    "These recipients cannot be read: %(text)s\nSeparate addresses with commas, as "
                    "Name <name@example.com>, and write a name holding a comma or an @ in double "
                    'quotes: "Buyer, Alice" <alice@example.com>.',
                    text=text,
                ),
                self.env._("Check the Recipients"),
            ) from error
        addresses = []
        for address in read:
            normalized = email_normalize(address.email)
            if not normalized:
                raise MailSyncUserError(
                    self.env._("%(address)s is not an email address.", address=address.email),
                    self.env._("Check the Recipients"),
                )
            addresses.append(Address(address.name, normalized))
        return tuple(addresses)

    def _check_attachments(self):
        blocked_extensions = self.env["res.config.settings"]._mail_sync_blocked_extensions()
        refused = blocked_attachments(self.attachment_ids.mapped("name"), blocked_extensions)
        if refused:
            raise MailSyncUserError(
                self.env._(
                    "These files cannot be sent, their type is blocked (Settings: Blocked Attachment "
                    "Extensions): %(files)s",
                    files=", ".join(refused),
                ),
                self.env._("Attachment Type Blocked"),
            )

    def _html(self):
        parts = [self.body or ""]
        if self.signature:
            # The "-- " line that starts a signature (RFC 3676 4.3), once: Odoo's default
            # signature already starts with one. Read as the plain-text part will show it.
            first_line = html_to_text(self.signature).strip().partition("\n")[0].strip()
            delimiter = Markup("") if first_line == "--" else Markup("-- <br/>")
            parts.append(
                Markup('<div class="mail_crm_sync_signature">%s%s</div>') % (delimiter, self.signature)
            )
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
            raise MailSyncUserError(
                self.env._("The email could not be written: %(error)s", error=error),
                self.env._("Email Not Written"),
            ) from error
