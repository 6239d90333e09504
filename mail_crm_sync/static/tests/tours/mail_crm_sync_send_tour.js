/** @odoo-module **/

import { registry } from "@web/core/registry";

// A salesman writes to an opportunity's contact with a file attached, sees the email on the
// opportunity, then replies to a synced email from its form.
registry.category("web_tour.tours").add("mail_crm_sync_send_tour", {
    steps: () => [
        {
            content: "The opportunity is open",
            trigger: ".o_breadcrumb:contains(Tour: 40 chairs)",
        },
        {
            content: "Write to its contact",
            trigger: ".o_form_view .o_form_statusbar button[name=action_mail_sync_compose]",
            run: "click",
        },
        {
            content: "The contact is in To",
            trigger: ".modal .o_field_widget[name=partner_to_ids] .o_tag:contains(Tour Buyer)",
        },
        {
            content: "Give a subject",
            trigger: ".modal .o_field_widget[name=subject] input",
            run: "edit Tour: our quote for the chairs",
        },
        {
            content: "Write the email",
            trigger: ".modal .o_field_widget[name=body] .odoo-editor-editable",
            run: "editor Please find our quote attached.",
        },
        {
            content: "Attach the quote",
            trigger: ".modal .o_field_widget[name=attachment_ids] input[type=file]:not(:visible)",
            run() {
                const files = new DataTransfer();
                files.items.add(new File(["%PDF-1.4 quote"], "quote.pdf", { type: "application/pdf" }));
                this.anchor.files = files.files;
                this.anchor.dispatchEvent(new Event("change", { bubbles: true }));
            },
        },
        {
            content: "The file is attached",
            trigger: ".modal .o_field_widget[name=attachment_ids]:contains(quote.pdf)",
        },
        {
            content: "Send",
            trigger: ".modal button[name=action_send]",
            run: "click",
        },
        {
            content: "It is queued",
            trigger: ".o_notification:contains(Your email is queued)",
        },
        {
            content: "The opportunity counts its email",
            trigger: ".o_form_view:not(:has(.modal)) button[name=action_view_mail_sync_messages]:contains(2)",
        },
        {
            content: "Open the opportunity's emails",
            trigger: ".o_notebook a[name=mail_sync_messages]",
            run: "click",
        },
        {
            content: "The sent email is on the opportunity, beside the customer's",
            trigger:
                ".o_field_widget[name=mail_sync_message_ids] .o_data_row:contains(Tour: our quote for the chairs) ~ .o_data_row:contains(Tour: can you quote 40 chairs?), .o_field_widget[name=mail_sync_message_ids] .o_data_row:contains(Tour: can you quote 40 chairs?) ~ .o_data_row:contains(Tour: our quote for the chairs)",
        },
        {
            content: "Go to the emails",
            trigger: '.o_main_navbar button[data-menu-xmlid="mail_crm_sync.mail_sync_message_menu"]',
            run: "click",
        },
        {
            content: "Open My Emails",
            trigger: '.dropdown-item[data-menu-xmlid="mail_crm_sync.mail_sync_message_menu_mine"]',
            run: "click",
        },
        {
            content: "Open the customer's email",
            // The list of the action, not the opportunity's list of emails still on the page.
            trigger:
                ".o_view_controller.o_list_view .o_data_row td[name=display_name]:contains(Tour: can you quote 40 chairs?)",
            run: "click",
        },
        {
            content: "Reply",
            trigger: ".o_form_view .o_form_statusbar button[name=action_reply]",
            run: "click",
        },
        {
            content: "The reply goes to the customer, with the question quoted",
            trigger:
                ".modal:has(.o_field_widget[name=partner_to_ids] .o_tag:contains(Tour Buyer)) .o_field_widget[name=quote]:contains(Do you have 40 chairs)",
        },
        {
            content: "Write the reply",
            trigger: ".modal .o_field_widget[name=body] .odoo-editor-editable",
            run: "editor Yes, 40 chairs are in stock.",
        },
        {
            content: "Send the reply",
            trigger: ".modal button[name=action_send]",
            run: "click",
        },
        {
            content: "The reply is queued",
            trigger: "body:not(:has(.modal)) .o_notification:contains(Your email is queued)",
        },
    ],
});
