"""Synced mail in the chatter of contacts, companies and opportunities.

Nothing is copied into ``mail.message``: a copy would be readable by whoever may read the record,
whatever the email's own visibility, and would notify followers. The chatter asks for the emails
when it loads its messages, and they are read here through the ORM as the user, so the visibility
rules of ``mail.sync.message`` decide what shows.
"""

from odoo import api, fields, models
from odoo.tools import SQL

from mail_crm_sync_engine.quoting import new_text

from .mail_sync_message import _people

# Conversations given at most per chatter page; the Emails smart button lists the rest.
TIMELINE_CONVERSATIONS = 40
# Emails of one conversation given with it, newest first.
CONVERSATION_EMAILS = 20
SNIPPET_CHARS = 700
SEARCH_LIMIT = 30


class MailSyncMessage(models.Model):
    _inherit = "mail.sync.message"

    @api.model
    def _timeline_domain(self, model, res_id):
        """The emails shown in the chatter of record ``res_id`` of ``model``, or None for a model
        without synced mail in its chatter. A company shows its people's mail too. Override to
        bring synced mail to the chatter of other models.

        The record is one the user may read (``_timeline_readable``): its active links are read
        directly, rather than through the links' own access rule, which would check the emails'
        visibility a second time; the emails' rule still applies to what is shown."""
        if model == "res.partner":
            people = (
                self.env["res.partner"].with_context(active_test=False)._search([("id", "child_of", res_id)])
            )
            return [
                ("id", "in", _linked(SQL("partner_id IN %s", people.subselect()))),
                *self._chatter_accounts_domain(),
            ]
        if model == "crm.lead":
            return [("id", "in", _linked(SQL("lead_id = %s", res_id))), *self._chatter_accounts_domain()]
        return None

    @api.model
    def _timeline_readable(self, model, res_id):
        """Whether this user may read synced mail at all, and the record."""
        if not self.has_access("read"):
            return False
        record = self.env[model].browse(res_id).exists()
        return bool(record) and record.has_access("read")

    @api.model
    def _timeline(self, model, res_id, domain, newer_than=None, not_newer_than=None):
        """The conversations of a record (its emails: ``domain``, from ``_timeline_domain``) whose
        latest email (of those this user may read) falls in (``newer_than``, ``not_newer_than``],
        newest first: what the chatter shows beside its messages of the same dates. Either bound
        may be None (open). Returns ``{"conversations": [...], "more": n}``, n being the
        conversations left out by the cap."""
        if not self._timeline_readable(model, res_id):
            return {"conversations": [], "more": 0}
        # One query under the visibility rule (it costs the same for a page as for all the
        # record's emails); what is shown of them is then read without it.
        emails = self.search_fetch(domain, ["thread_key", "date"], order="date desc, id desc")
        undated = fields.Datetime.to_datetime("1970-01-01")
        by_key, latest = {}, {}
        for email in emails:
            by_key.setdefault(email.thread_key, []).append(email.id)
            latest[email.thread_key] = max(latest.get(email.thread_key, undated), email.date or undated)
        in_range = sorted(
            (
                (date, key)
                for key, date in latest.items()
                if (newer_than is None or date > newer_than)
                and (not_newer_than is None or date <= not_newer_than)
            ),
            key=lambda item: item[0],
            reverse=True,
        )
        shown = in_range[:TIMELINE_CONVERSATIONS]
        # found above under the user's rules; read at once for all the conversations shown
        readable = self.sudo().browse(
            email_id for _date, key in shown for email_id in by_key[key][:CONVERSATION_EMAILS]
        )
        conversations = [
            {
                "key": key,
                "date": fields.Datetime.to_string(date),
                "count": len(by_key[key]),
                "emails": readable.browse(by_key[key][:CONVERSATION_EMAILS])
                .with_prefetch(readable._prefetch_ids)
                ._timeline_values(),
            }
            for date, key in shown
        ]
        return {"conversations": conversations, "more": len(in_range) - len(shown)}

    @api.model
    def _timeline_search(self, model, res_id, term):
        """A record's emails matching ``term`` as the Emails search does (word beginnings, parts of
        addresses), newest first: what the chatter's search finds beside its messages."""
        domain = self._timeline_domain(model, res_id)
        if domain is None or not term or not self._timeline_readable(model, res_id):
            return {"emails": [], "count": 0}
        domain = [*domain, ("search_text", "ilike", term)]
        # A record's emails are few beside the database's: the search's words are asked of each.
        self = self.with_context(mail_sync_search_each_email=True)  # noqa: PLW0642
        found = self.search(domain, limit=SEARCH_LIMIT)
        return {
            "emails": found.sudo()._timeline_values(),  # found under the user's rules
            "count": len(found) if len(found) < SEARCH_LIMIT else self.search_count(domain),
        }

    def _timeline_values(self):
        """What the chatter's email card shows: who, to whom, when, the words written (without the
        quoted history), and what lets the user open or answer it."""
        send_states = dict(self._fields["send_state"]._description_selection(self.env))
        return [
            {
                "id": email.id,
                "date": fields.Datetime.to_string(email.date) if email.date else False,
                "subject": email.display_name,
                "direction": email.direction,
                "author": ", ".join(name for name, _address in _people(email.email_from)),
                "correspondent": email.correspondent,
                "snippet": _snippet(email.body_text),
                "attachment_count": email.attachment_count,
                "gone": email.gone_from_server,
                "send_state": email.send_state,
                "send_state_label": send_states.get(email.send_state, ""),
                "send_error": email.send_error or "",
            }
            for email in self
        ]


def _linked(condition):
    return SQL("(SELECT email_id FROM mail_sync_message_link WHERE active AND %s)", condition)


def _snippet(text):
    words = " ".join(new_text(text or "").split())
    if len(words) <= SNIPPET_CHARS:
        return words
    return words[:SNIPPET_CHARS].rsplit(" ", 1)[0] + " …"
