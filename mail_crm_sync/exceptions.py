from odoo.exceptions import UserError


class MailSyncUserError(UserError):
    """A UserError whose dialog is titled by what happened ("Connection Failed") rather than the web
    client's "Invalid Operation" for every UserError. The title travels in the error's ``context``,
    which Odoo serializes to the client (odoo.http.serialize_exception); the dialog registered for
    this class (static/src/js/error_dialog.js) shows it. Catching UserError still catches it."""

    def __init__(self, message, title=None):
        super().__init__(message)
        self.title = title
        self.context = {"title": title} if title else {}
