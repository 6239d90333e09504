import hashlib

from odoo import api, fields, models
from odoo.tools import SQL


def message_id_hash(message_id):
    """SHA-256 of a Message-ID: what a tombstone keeps. The Message-ID itself may name the person
    (some mail clients put the sender's address in it), and erased mail keeps nothing of them."""
    return hashlib.sha256((message_id or "").strip().encode()).hexdigest()


class MailSyncTombstone(models.Model):
    """An email erased from the CRM (GDPR): the sync never stores it again, whatever folder or
    account it arrives in, while the mailbox on the server keeps it."""

    _name = "mail.sync.tombstone"
    _description = "Erased Email"
    _order = "erased_on desc, id desc"
    _rec_name = "message_id_hash"

    message_id_hash = fields.Char(
        string="Message-ID Hash",
        required=True,
        readonly=True,
        help="SHA-256 of the erased email's Message-ID.",
    )
    erased_by = fields.Many2one("res.users", required=True, readonly=True, ondelete="restrict")
    erased_on = fields.Datetime(required=True, readonly=True)
    # Set null: erasing the contact afterwards leaves no name behind.
    partner_id = fields.Many2one(
        "res.partner", string="Contact", readonly=True, ondelete="set null", help="Whose emails were erased."
    )

    _sql_constraints = [
        ("message_id_hash_uniq", "unique(message_id_hash)", "An email is erased once."),
    ]

    @api.model
    def _erased(self, message_ids):
        """The Message-IDs among ``message_ids`` that were erased: one indexed lookup for a batch."""
        hashes = {message_id_hash(message_id): message_id for message_id in message_ids}
        if not hashes:
            return set()
        self.env.cr.execute(
            SQL(
                "SELECT message_id_hash FROM mail_sync_tombstone WHERE message_id_hash = ANY(%s)",
                list(hashes),
            )
        )
        return {hashes[found] for (found,) in self.env.cr.fetchall()}

    @api.model
    def _bury(self, message_ids, partner):
        """Tombstones for these Message-IDs, erased now by the current user for ``partner``."""
        self.env.cr.execute(
            SQL(
                """INSERT INTO mail_sync_tombstone
                          (message_id_hash, erased_by, erased_on, partner_id,
                           create_uid, write_uid, create_date, write_date)
                   SELECT h, %(uid)s, now() at time zone 'UTC', %(partner)s,
                          %(uid)s, %(uid)s, now() at time zone 'UTC', now() at time zone 'UTC'
                     FROM unnest(%(hashes)s::text[]) AS h
              ON CONFLICT (message_id_hash) DO NOTHING""",
                uid=self.env.uid,
                partner=partner.id or None,
                hashes=sorted({message_id_hash(message_id) for message_id in message_ids}),
            )
        )
