/** @odoo-module **/

import { useEffect } from "@odoo/owl";
import { registry } from "@web/core/registry";
import { CharField, charField } from "@web/views/fields/char/char_field";

// How often a record showing work under way is read again.
const REFRESH_MS = 3000;

/**
 * The progress of work the server does in the background ("Looking for older mail…", with Stop):
 * while it shows, the record is read again every few seconds, so that the banner goes and the
 * Emails count grows when the work ends, without a reload of the page. A record being edited is
 * left alone.
 */
export class MailSyncProgressField extends CharField {
    setup() {
        super.setup();
        useEffect(
            (progress) => {
                if (!progress) {
                    return;
                }
                const timer = setInterval(() => {
                    const record = this.props.record;
                    if (!record.dirty) {
                        record.load();
                    }
                }, REFRESH_MS);
                return () => clearInterval(timer);
            },
            () => [this.props.record.data[this.props.name]]
        );
    }
}

registry.category("fields").add("mail_sync_progress", {
    ...charField,
    component: MailSyncProgressField,
});
