"""Synced mail in the chatter of contacts, companies and opportunities.

Nothing is copied into ``mail.message``: a copy would be readable by whoever may read the record,
whatever the email's own visibility, and would notify followers. The chatter asks for the emails
when it loads its messages, and they are read here through the ORM as the user, so the visibility
rules of ``mail.sync.message`` decide what shows.
"""

from mail_crm_sync_engine.quoting import new_text
from odoo import api, fields, models

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
        bring synced mail to the chatter of other models."""
        if model == "res.partner":
            return [("partner_ids", "child_of", res_id)]
        if model == "crm.lead":
            return [("lead_ids", "in", [res_id])]
        return None

    @api.model
    def _timeline_access(self, model, res_id):
        """The domain for the record if this user may read it and synced mail at all, else None."""
        domain = self._timeline_domain(model, res_id)
        if domain is None or not self.has_access("read"):
            return None
        record = self.env[model].browse(res_id).exists()
        if not record or not record.has_access("read"):
            return None
        return domain

    @api.model
    def _timeline(self, model, res_id, newer_than=None, not_newer_than=None):
        """The conversations of a record whose latest email (of those this user may read) falls in
        (``newer_than``, ``not_newer_than``], newest first: what the chatter shows beside its
        messages of the same dates. Either bound may be None (open). Returns
        ``{"conversations": [...], "more": n}``, n being the conversations left out by the cap."""
        domain = self._timeline_access(model, res_id)
        if domain is None:
            return {"conversations": [], "more": 0}
        groups = self._read_group(domain, ["thread_key"], ["date:max"])
        undated = fields.Datetime.to_datetime("1970-01-01")
        in_range = sorted(
            (
                (latest or undated, key)
                for key, latest in groups
                if (newer_than is None or (latest or undated) > newer_than)
                and (not_newer_than is None or (latest or undated) <= not_newer_than)
            ),
            reverse=True,
        )
        shown = in_range[:TIMELINE_CONVERSATIONS]
        keys = [key for _latest, key in shown]
        emails = (
            self.search([*domain, ("thread_key", "in", keys)], order="date desc, id desc") if keys else self
        )
        by_key = {}
        for email in emails:
            by_key.setdefault(email.thread_key, self.browse())
            by_key[email.thread_key] |= email
        conversations = [
            {
                "key": key,
                "date": fields.Datetime.to_string(latest),
                "count": len(by_key.get(key, ())),
                "emails": by_key[key][:CONVERSATION_EMAILS]._timeline_values(),
            }
            for latest, key in shown
            if key in by_key
        ]
        return {"conversations": conversations, "more": len(in_range) - len(shown)}

    @api.model
    def _timeline_search(self, model, res_id, term):
        """A record's emails matching ``term`` as the Emails search does (word beginnings, parts of
        addresses), newest first: what the chatter's search finds beside its messages."""
        domain = self._timeline_access(model, res_id)
        if domain is None or not term:
            return {"emails": [], "count": 0}
        domain = [*domain, ("search_text", "ilike", term)]
        return {
            "emails": self.search(domain, limit=SEARCH_LIMIT)._timeline_values(),
            "count": self.search_count(domain),
        }

    def _timeline_values(self):
        """What the chatter's email card shows: who, to whom, when, the words written (without the
        quoted history), and what lets the user open or answer it."""
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
            }
            for email in self
        ]


def _snippet(text):
    words = " ".join(new_text(text or "").split())
    if len(words) <= SNIPPET_CHARS:
        return words
    return words[:SNIPPET_CHARS].rsplit(" ", 1)[0] + " …"
