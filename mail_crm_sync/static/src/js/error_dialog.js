/** @odoo-module **/

import { RedirectWarningDialog, WarningDialog } from "@web/core/errors/error_dialogs";
import { registry } from "@web/core/registry";

/**
 * The dialog of mail_crm_sync's MailSyncUserError (exceptions.py): Odoo's warning dialog, titled
 * by what happened, as the server said it, instead of "Invalid Operation".
 */
export class MailSyncErrorDialog extends WarningDialog {
    inferTitle() {
        return this.props.data?.context?.title || super.inferTitle();
    }
}

registry
    .category("error_dialogs")
    .add("odoo.addons.mail_crm_sync.exceptions.MailSyncUserError", MailSyncErrorDialog);

/**
 * The dialog of MailSyncRedirectWarning: Odoo's redirect warning (a message and a button that opens
 * where to fix it), titled by what happened instead of "Odoo Warning".
 */
export class MailSyncRedirectDialog extends RedirectWarningDialog {
    setup() {
        super.setup();
        this.title = this.props.data?.context?.title || this.title;
    }
}

registry
    .category("error_dialogs")
    .add("odoo.addons.mail_crm_sync.exceptions.MailSyncRedirectWarning", MailSyncRedirectDialog);

/**
 * After an action that removed the record on screen (Delete, when no other mailbox holds the
 * email): say so, and go back where the user came from, as Odoo does after deleting a record,
 * instead of reloading a record that no longer exists.
 *
 * params: message, type (of the notification).
 */
function mailSyncBack(env, action) {
    const { message, type } = action.params || {};
    if (message) {
        env.services.notification.add(message, { type: type || "info" });
    }
    env.services.action.currentController?.config.historyBack();
}

registry.category("actions").add("mail_crm_sync_back", mailSyncBack);
