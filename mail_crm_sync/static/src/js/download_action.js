/** @odoo-module **/

import { download } from "@web/core/network/download";
import { registry } from "@web/core/registry";

/**
 * A download that does something on the server (the GDPR export reads the mailboxes and is noted
 * on the contact): a POST carrying the session's CSRF token, as Odoo's report downloads are, never
 * a link that another site could make the browser follow.
 *
 * params: url, data (the form's fields, optional), reload (show the record again afterwards).
 */
async function mailSyncDownload(env, action) {
    const { url, data, reload } = action.params;
    env.services.ui.block();
    try {
        await download({ url, data: data || {} });
    } finally {
        env.services.ui.unblock();
    }
    return reload ? { type: "ir.actions.client", tag: "soft_reload" } : undefined;
}

registry.category("actions").add("mail_crm_sync_download", mailSyncDownload);
