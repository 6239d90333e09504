/** @odoo-module **/

import { onWillUnmount, toRaw } from "@odoo/owl";
import { browser } from "@web/core/browser/browser";
import { registry } from "@web/core/registry";
import { useService } from "@web/core/utils/hooks";
import { FormController } from "@web/views/form/form_controller";
import { formView } from "@web/views/form/form_view";
import { ListController } from "@web/views/list/list_controller";
import { listView } from "@web/views/list/list_view";

/** How often what is typed in the composer is saved as a draft, in milliseconds. */
export const DRAFT_SAVE_INTERVAL = 3000;

/**
 * The composer keeps what is typed: every few seconds while it changes, and when its window is
 * closed (the dialog's X or Escape), the form is saved as a draft (mail.sync.compose) before the
 * window goes. A closed tab goes through Odoo's own save on leaving the page.
 */
export class MailSyncComposeFormController extends FormController {
    setup() {
        super.setup();
        this.draftSaving = null;
        this.draftTimer = browser.setInterval(() => this.saveDraft(), DRAFT_SAVE_INTERVAL);
        onWillUnmount(() => browser.clearInterval(this.draftTimer));
        // The dialog's own data, not its reactive view: a change there would render the dialog,
        // and this form, anew.
        const dialog = this.env.inDialog && this.env.dialogData && toRaw(this.env.dialogData);
        if (dialog) {
            // Closing the window: once it is gone, the form can no longer call the server.
            const dismiss = dialog.dismiss;
            dialog.dismiss = async () => {
                await this.draftSaving;
                await this.saveDraft();
                if (dismiss) {
                    await dismiss();
                }
            };
        }
    }

    /**
     * Save the composer as a draft when it holds changes (the fields, the editor's text included,
     * are asked for what they hold first). A save under way is not doubled.
     */
    async saveDraft() {
        const record = this.model.root;
        if (this.draftSaving || !record) {
            return;
        }
        this.draftSaving = record
            .isDirty()
            .then((dirty) => dirty && record.save({ reload: false, onError: () => false }));
        try {
            await this.draftSaving;
        } finally {
            this.draftSaving = null;
        }
    }
}

registry.category("views").add("mail_crm_sync_compose_form", {
    ...formView,
    Controller: MailSyncComposeFormController,
});

/** CRM > Emails > Drafts: a draft opens in the composer, where it was left. */
export class MailSyncDraftListController extends ListController {
    setup() {
        super.setup();
        this.orm = useService("orm");
    }

    async openRecord(record) {
        const action = await this.orm.call("mail.sync.compose", "action_open_draft", [[record.resId]]);
        await this.actionService.doAction(action, {
            onClose: () => this.model.load(),
        });
    }
}

registry.category("views").add("mail_crm_sync_draft_list", {
    ...listView,
    Controller: MailSyncDraftListController,
});
