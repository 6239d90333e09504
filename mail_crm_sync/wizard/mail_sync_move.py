from odoo import api, fields, models

from mail_crm_sync_engine import MailSyncError, connect, move_message

from ..exceptions import MailSyncUserError
from ..models.notify import CLOSE, notification


class MailSyncMove(models.TransientModel):
    """Move a synced email to another folder of its mailbox, on the server."""

    _name = "mail.sync.move"
    _description = "Move an Email to Another Folder"

    email_id = fields.Many2one("mail.sync.message", required=True, readonly=True)
    location_id = fields.Many2one(
        "mail.sync.message.location", string="From", required=True, domain="[('email_id', '=', email_id)]"
    )
    account_id = fields.Many2one(related="location_id.account_id")
    folder_id = fields.Many2one(
        "mail.sync.folder",
        string="To Folder",
        required=True,
        domain="[('account_id', '=', account_id), ('id', '!=', current_folder_id)]",
        context={"active_test": False},
    )
    current_folder_id = fields.Many2one(related="location_id.folder_id", string="Now In")

    @api.model
    def default_get(self, fields_list):
        values = super().default_get(fields_list)
        message = self.env["mail.sync.message"].browse(values.get("email_id"))
        if message:
            values.setdefault("location_id", message._changeable_locations()[:1].id)
        return values

    def action_move(self):
        """MOVE on the server (or COPY and expunge of that one message); the CRM follows only when
        the server did it."""
        self.ensure_one()
        location = self.location_id
        if location not in self.email_id._changeable_locations():
            raise MailSyncUserError(self.env._("You may not change this mailbox."), self.env._("Not Allowed"))
        account = location.sudo().account_id
        try:
            with connect(account._connection_settings()) as mailbox:
                moved = move_message(mailbox, location._engine_location(), self.folder_id.name)
        except MailSyncError as error:
            raise MailSyncUserError(account._error_message(error), self.env._("Not Moved")) from error
        if moved.uid:
            location.sudo().write(
                {"folder_id": self.folder_id.id, "uidvalidity": moved.uidvalidity, "uid": moved.uid}
            )
        else:  # the server did not say where: the next sync of that folder finds it
            location.sudo().unlink()
        return notification(
            self.env._("Moved to %(folder)s.", folder=self.folder_id.name), kind="success", then=CLOSE
        )
