/** @odoo-module **/

import { htmlField } from "@html_editor/fields/html_field";
import { registry } from "@web/core/registry";

/**
 * A signature: Odoo's HTML field with its code view (the HTML source) offered to every user, not
 * only in developer mode; a signature pasted from a mail client is often fixed there.
 */
registry.category("fields").add("mail_sync_signature", {
    ...htmlField,
    extractProps(fieldInfo, dynamicInfo) {
        return { ...htmlField.extractProps(fieldInfo, dynamicInfo), codeview: true };
    },
});
