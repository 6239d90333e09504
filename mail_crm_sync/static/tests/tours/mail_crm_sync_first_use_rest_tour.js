/** @odoo-module **/

import { registry } from "@web/core/registry";

// What is left of issue 29 (tests/test_first_use_rest.py): each tour walks one screen as a salesman
// first meets it. A `shot` step asks the test for a screenshot (tests/common.py, screenshots_on_request).

function shot(name) {
    return {
        content: `Screenshot: ${name}`,
        trigger: "body",
        async run() {
            console.log(`mcs_shot:${name}`);
            // The screenshot is taken while the tour waits.
            await new Promise((resolve) => setTimeout(resolve, 800));
        },
    };
}

const tours = registry.category("web_tour.tours");

tours.add("mail_crm_sync_write_without_smtp_tour", {
    steps: () => [
        {
            content: "Write an email to the contact",
            trigger: ".o_form_view button[name=action_mail_sync_compose]",
            run: "click",
        },
        {
            content: "A dialog opens",
            trigger: ".modal .modal-body",
        },
        shot("item3_write_without_smtp"),
        {
            content: "It is titled by what happened",
            trigger: ".modal .modal-title:contains(No Account to Send From)",
        },
        {
            content: "It offers to set up sending",
            trigger: ".modal .modal-footer button:contains(Set Up Sending)",
            run: "click",
        },
        {
            content: "The account opens on its Outgoing tab",
            trigger: ".o_form_view .o_notebook .nav-link.active:contains(Outgoing)",
        },
        {
            content: "... where sending is turned on",
            trigger: ".o_form_view .o_field_widget[name=sending_enabled] input",
        },
        shot("item3_outgoing_tab"),
    ],
});

tours.add("mail_crm_sync_write_without_account_tour", {
    steps: () => [
        {
            content: "Write an email to the contact",
            trigger: ".o_form_view button[name=action_mail_sync_compose]",
            run: "click",
        },
        {
            content: "A dialog opens",
            trigger: ".modal .modal-body",
        },
        shot("item3_write_without_account"),
        {
            content: "It is titled by what happened",
            trigger: ".modal .modal-title:contains(No Account to Send From)",
        },
        {
            content: "It offers to connect a mail account",
            trigger: ".modal .modal-footer button:contains(Connect a Mail Account)",
            run: "click",
        },
        {
            content: "A new mail account form opens",
            trigger: ".o_form_view .o_field_widget[name=imap_host] input",
        },
        shot("item3_connect_form"),
    ],
});
