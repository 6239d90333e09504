/** @odoo-module **/

import { registry } from "@web/core/registry";

const SUBJECT = "Tour: tiles for the kitchen";

// A salesman writes to an opportunity's contact, whose name is not ASCII, and closes the window
// before sending; the email waits under CRM > Emails > Drafts and reopens as it was left. A send
// refused for a misspelt address loses nothing either.
registry.category("web_tour.tours").add("mail_crm_sync_draft_write_tour", {
    steps: () => [
        {
            content: "Write to the opportunity's contact",
            trigger: ".o_form_view .o_form_statusbar button[name=action_mail_sync_compose]",
            run: "click",
        },
        {
            content: "The contact is in To as people read the name",
            trigger: ".modal .o_field_widget[name=partner_to_ids] .o_tag:contains(Jürgen Zöllner)",
        },
        {
            content: "Give a subject",
            trigger: ".modal .o_field_widget[name=subject] input",
            run: `edit ${SUBJECT}`,
        },
        {
            content: "Write the email",
            trigger: ".modal .o_field_widget[name=body] .odoo-editor-editable",
            run: "editor Here is the plan for the kitchen tiles.",
        },
        {
            content: "Close the window without sending",
            trigger: ".modal .modal-header .btn-close",
            run: "click",
        },
        {
            content: "The window is closed",
            trigger: "body:not(:has(.modal)) .o_form_view .o_breadcrumb:contains(Kitchen tiles)",
        },
        {
            content: "Go to the emails",
            trigger: '.o_main_navbar button[data-menu-xmlid="mail_crm_sync.mail_sync_message_menu"]',
            run: "click",
        },
        {
            content: "Open the drafts",
            trigger: '.dropdown-item[data-menu-xmlid="mail_crm_sync.mail_sync_compose_menu_drafts"]',
            run: "click",
        },
        {
            content: "The draft is listed, to Jürgen, about the opportunity",
            trigger: `.o_list_view .o_data_row:contains(${SUBJECT}):contains(Jürgen Zöllner):contains(Kitchen tiles) td[name=subject]`,
            run: "click",
        },
        {
            content: "It reopens in the composer as it was left",
            trigger: `.modal:has(.o_field_widget[name=partner_to_ids] .o_tag:contains(Jürgen Zöllner)):has(.o_field_widget[name=subject] input:value(${SUBJECT})) .o_field_widget[name=body]:contains(Here is the plan for the kitchen tiles.)`,
        },
        {
            content: "Copy someone, with a typo in the address",
            trigger: ".modal .o_field_widget[name=email_cc] input",
            run: "edit Anna <anna.client.example>",
        },
        {
            content: "Send",
            trigger: ".modal button[name=action_send]",
            run: "click",
        },
        {
            content: "The send is refused, saying why",
            trigger: ".modal .modal-body:contains(These recipients cannot be read: Anna <anna.client.example>)",
        },
        {
            content: "Close the message",
            trigger: ".modal:has(.modal-body:contains(These recipients cannot be read)) .modal-footer .btn-primary",
            run: "click",
        },
        {
            content: "Close the composer too",
            trigger: ".modal:has(.o_field_widget[name=email_cc]) .modal-header .btn-close",
            run: "click",
        },
        {
            content: "Still one draft, with the copy as typed",
            trigger: `body:not(:has(.modal)) .o_list_view:not(:has(.o_data_row + .o_data_row)) .o_data_row:contains(${SUBJECT}) td[name=subject]`,
            run: "click",
        },
        {
            content: "Reopened with the Cc",
            trigger: ".modal .o_field_widget[name=email_cc] input:value(Anna <anna.client.example>)",
        },
    ],
});

// From the draft: Send, then Undo Send within the delay, then Send again; the email waits, queued.
registry.category("web_tour.tours").add("mail_crm_sync_draft_send_tour", {
    steps: () => [
        {
            content: "Open the draft",
            trigger: `.o_list_view .o_data_row:contains(${SUBJECT}) td[name=subject]`,
            run: "click",
        },
        {
            content: "Mend the address",
            trigger: ".modal .o_field_widget[name=email_cc] input",
            run: "edit Anna <anna@client.example>",
        },
        {
            content: "Send",
            trigger: ".modal button[name=action_send]",
            run: "click",
        },
        {
            content: "It goes in 10 seconds, and can be taken back",
            trigger: ".o_notification:contains(Your email goes in 10 seconds)",
        },
        {
            content: "Undo Send",
            trigger: ".modal:contains(This email is waiting to be sent) button[name=action_undo_send]",
            run: "click",
        },
        {
            content: "Not sent: back in the composer, as it was",
            trigger: `.modal:has(.o_field_widget[name=subject] input:value(${SUBJECT})) .o_field_widget[name=email_cc] input:value(Anna <anna@client.example>)`,
        },
        {
            content: "Told so",
            trigger: ".o_notification:contains(Your email was not sent)",
        },
        {
            content: "Send again",
            trigger: ".modal button[name=action_send]",
            run: "click",
        },
        {
            content: "Queued again",
            trigger: ".modal:contains(This email is waiting to be sent) button[name=action_undo_send]",
        },
        {
            content: "Leave it to go",
            trigger: ".modal .modal-header .btn-close",
            run: "click",
        },
        {
            content: "No draft is left",
            trigger: "body:not(:has(.modal)) .o_list_view:not(:has(.o_data_row))",
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
            content: "The email is queued",
            trigger: `.o_list_view .o_data_row:contains(${SUBJECT}) td[name=send_state]:contains(Queued)`,
        },
    ],
});

// After the delay, the sending job ran: the same list shows the email sent.
registry.category("web_tour.tours").add("mail_crm_sync_draft_sent_tour", {
    steps: () => [
        {
            content: "The email is sent",
            trigger: `.o_list_view .o_data_row:contains(${SUBJECT}) td[name=send_state]:contains(Sent)`,
        },
    ],
});
