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


class MailSyncRedirectWarning(UserError):
    """Odoo's RedirectWarning (a message, and a button that opens where to fix it: its ``args`` are
    RedirectWarning's, as its dialog reads them), titled by what happened instead of the web client's
    "Odoo Warning": the title travels in ``context`` as for MailSyncUserError, and
    static/src/js/error_dialog.js shows it. A UserError, not a RedirectWarning: the server logs it as
    a user's mistake (a warning of one line), not as an error with its traceback."""

    def __init__(self, message, action, button_text, title, additional_context=None):
        super().__init__(message)
        self.args = (message, action, button_text, additional_context)
        self.title = title
        self.context = {"title": title}

    def __str__(self):
        return self.args[0]
