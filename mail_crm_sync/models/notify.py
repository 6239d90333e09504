"""The notice a button answers with, in the corner of the screen."""

# What follows the notice: the page reloaded, so that it shows what changed; or the dialog closed.
RELOAD = {"type": "ir.actions.client", "tag": "soft_reload"}
CLOSE = {"type": "ir.actions.act_window_close"}


def notification(message, kind="info", then=None, sticky=False):
    """The client action of a notice (``kind``: info, success, warning, danger), followed by the
    action ``then`` (RELOAD when None)."""
    params = {"type": kind, "message": message, "next": dict(then or RELOAD)}
    if sticky:
        params["sticky"] = True
    return {"type": "ir.actions.client", "tag": "display_notification", "params": params}


def notification_and_back(message, kind="info"):
    """A notice, then back to the previous screen: the action after removing the record shown
    (static/src/js/error_dialog.js)."""
    return {
        "type": "ir.actions.client",
        "tag": "mail_crm_sync_back",
        "params": {"message": message, "type": kind},
    }
