/** @odoo-module **/

import { _t } from "@web/core/l10n/translation";
import { registry } from "@web/core/registry";
import { user } from "@web/core/user";

// "Connect a Mail Account" in the user menu, beside Preferences: two clicks from any screen.
// Salesmen only, who may connect a mailbox of their own (the group is read once, at start).
let isSalesman = false;
user.hasGroup("sales_team.group_sale_salesman").then((result) => {
    isSalesman = result;
});

function connectMailAccountItem(env) {
    return {
        type: "item",
        id: "mail_crm_sync_connect",
        description: _t("Connect a Mail Account"),
        callback: () => env.services.action.doAction("mail_crm_sync.mail_sync_account_action_connect"),
        show: () => isSalesman,
        sequence: 55,
    };
}

registry.category("user_menuitems").add("mail_crm_sync_connect", connectMailAccountItem);
