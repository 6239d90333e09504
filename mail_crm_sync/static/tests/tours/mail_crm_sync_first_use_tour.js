/** @odoo-module **/

import { registry } from "@web/core/registry";

// What a new user trips over (issue 29): each tour walks one screen as a salesman first meets it.
// A `shot` step asks the test for a screenshot (tests/common.py, screenshots_on_request).

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

tours.add("mail_crm_sync_first_account_tour", {
    steps: () => [
        {
            content: "A new mail account form is open",
            trigger: ".o_form_view .o_field_widget[name=imap_host] input",
        },
        shot("item4_new_account_form"),
        {
            content: "The server has a key: no warning about unencrypted passwords",
            trigger: ".o_form_view .o_form_sheet:not(:has(.alert:contains(unencrypted)))",
        },
    ],
});

tours.add("mail_crm_sync_email_actions_tour", {
    steps: () => [
        {
            content: "The unassigned email is open",
            trigger: ".o_form_view .alert-info:contains(not linked to any contact)",
        },
        shot("item5_email_header"),
        {
            content: "Matching again is no header button: the header holds what a user does often",
            trigger: ".o_form_statusbar:not(:has(button[name=action_relink])):not(:has(button[name=action_open_move_wizard]))",
        },
        {
            content: "Open the gear menu",
            trigger: ".o_control_panel .o_cp_action_menus button:has(.fa-cog)",
            run: "click",
        },
        shot("item5_gear_menu"),
        {
            content: "Matching again and moving are in the gear menu, named by what they do",
            trigger: ".o-dropdown--menu:has(.o-dropdown-item:contains(Match Contacts Again)) .o-dropdown-item:contains(Move to Folder)",
        },
        {
            content: "Close the gear menu",
            trigger: ".o_control_panel .o_cp_action_menus button:has(.fa-cog)",
            run: "click",
        },
        {
            content: "Delete it on the server",
            trigger: ".o_form_statusbar button[name=action_delete_on_server]",
            run: "click",
        },
        {
            content: "Confirm",
            trigger: ".modal .modal-footer .btn-primary",
            run: "click",
        },
        {
            content: "Let the screen settle",
            trigger: "body:not(:has(.modal .modal-footer button:contains(Cancel)))",
            async run() {
                await new Promise((resolve) => setTimeout(resolve, 1500));
            },
        },
        shot("item2_after_delete"),
        {
            content: "Back on the list, told it is deleted, and no error",
            trigger:
                "body:not(:has(.modal)):has(.o_notification:contains(Deleted from your mailbox on the server)) .o_list_view",
        },
    ],
});

tours.add("mail_crm_sync_wrong_password_tour", {
    steps: () => [
        {
            content: "Test the connection",
            trigger: ".o_form_statusbar button[name=action_test_connection]",
            run: "click",
        },
        {
            content: "The server refuses the login",
            trigger: ".modal .modal-title",
        },
        shot("item9_error_dialog_title"),
        {
            content: "The dialog is titled by what happened",
            trigger: ".modal .modal-title:contains(Connection Failed)",
        },
        {
            content: "Close it",
            trigger: ".modal .modal-footer .btn-primary",
            run: "click",
        },
    ],
});

tours.add("mail_crm_sync_connect_offer_tour", {
    steps: () => [
        {
            content: "My Emails is empty: the salesman has no mailbox yet",
            trigger: ".o_view_nocontent",
        },
        shot("item8_empty_emails"),
        {
            content: "Only the sign-ins that are set up are offered",
            trigger:
                ".o_view_nocontent:has(a:contains(Other mailbox)):not(:has(a:contains(Connect Gmail))):not(:has(a:contains(Connect Microsoft 365)))",
        },
    ],
});

tours.add("mail_crm_sync_contact_tour", {
    steps: () => [
        {
            content: "The contact's email shows in the chatter",
            trigger: ".o-mail-sync-Conversation:contains(Jürgen's price list)",
        },
        shot("item9_attachment_count"),
        {
            content: "One attachment, in English",
            trigger: ".o-mail-sync-Conversation:contains(1 attachment):not(:contains(attachment(s)))",
        },
        {
            content: "The header says the button checks all the user's mailboxes",
            trigger: ".o_form_statusbar button:contains(Check My Mailboxes)",
        },
        {
            content: "Write to the contact",
            trigger: ".o_form_statusbar button[name=action_mail_sync_compose]",
            run: "click",
        },
        {
            content: "The composer opens",
            trigger: ".modal .o_form_view",
        },
        shot("item1_compose_to"),
        {
            content: "The name is written out, not encoded",
            trigger: ".modal .o_field_widget[name=email_to] :is(input, textarea):value(Jürgen Zöllner <juergen@client.example>)",
        },
        {
            content: "Close the composer",
            trigger: ".modal .btn-close",
            run: "click",
        },
        {
            content: "Closed",
            trigger: "body:not(:has(.modal))",
        },
    ],
});
