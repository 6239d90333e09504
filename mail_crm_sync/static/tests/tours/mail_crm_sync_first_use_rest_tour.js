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

tours.add("mail_crm_sync_mailboxes_tour", {
    steps: () => [
        {
            content: "My Mailboxes shows a card per mailbox",
            trigger: ".o_kanban_view .o_kanban_record:contains(\"Nina's mailbox\")",
        },
        {
            content: "... with its state",
            trigger: ".o_kanban_record:contains(\"Nina's mailbox\") .o_field_badge:contains(Active)",
        },
        shot("item_dashboard_cards"),
        {
            content: "Open its unassigned emails",
            trigger: ".o_kanban_record:contains(\"Nina's mailbox\") a[name=action_open_unassigned]:contains(Unassigned Email)",
            run: "click",
        },
        {
            content: "The unassigned email is listed, alone",
            trigger: ".o_list_view .o_data_row:contains(Quote for 40 chairs?)",
        },
        {
            content: "... and the linked one is not",
            trigger: ".o_list_view:not(:has(.o_data_row:contains(Known customer)))",
        },
        shot("item_dashboard_unassigned"),
    ],
});

tours.add("mail_crm_sync_inbox_folders_tour", {
    steps: () => [
        {
            content: "The Inbox opens on the primary account's INBOX",
            trigger: ".o_search_panel .o_search_panel_filter_value:contains(INBOX) input:checked",
        },
        {
            content: "... of the primary account",
            trigger: ".o_search_panel .o_search_panel_category_value .active:contains(\"Nina's mailbox\")",
        },
        {
            content: "Its email is listed, not the one in Sent",
            trigger: ".o_list_view .o_data_row:contains(Quote for 40 chairs?):not(:contains(Our offer))",
        },
        {
            content: "... alone",
            trigger: ".o_list_view:not(:has(.o_data_row:contains(Our offer)))",
        },
        shot("item_inbox"),
        {
            content: "Leave the INBOX",
            trigger: ".o_search_panel .o_search_panel_filter_value:contains(INBOX) input",
            run: "click",
        },
        {
            content: "Open the Sent folder",
            trigger: ".o_search_panel .o_search_panel_filter_value:contains(Sent) input",
            run: "click",
        },
        {
            content: "The sent email is listed",
            trigger: ".o_list_view .o_data_row:contains(Our offer)",
        },
        {
            content: "... and not the received one",
            trigger: ".o_list_view:not(:has(.o_data_row:contains(Quote for 40 chairs?)))",
        },
        shot("item_inbox_sent"),
    ],
});

tours.add("mail_crm_sync_chatter_choice_tour", {
    steps: () => [
        {
            content: "Open the account's Sync tab",
            trigger: ".o_form_view .o_notebook .nav-link:contains(Sync)",
            run: "click",
        },
        {
            content: "Turn off its mail in the chatter",
            trigger: ".o_form_view .o_field_widget[name=show_in_chatter] input:checked",
            run: "click",
        },
        shot("item_chatter_choice_field"),
        {
            content: "Save",
            trigger: ".o_form_button_save",
            run: "click",
        },
        {
            content: "Saved",
            trigger: ".o_form_view:not(:has(.o_form_button_save:visible))",
        },
    ],
});

tours.add("mail_crm_sync_chatter_choice_contact_tour", {
    steps: () => [
        {
            content: "The contact's chatter has loaded its messages",
            trigger: ".o-mail-Chatter .o-mail-Message",
        },
        {
            content: "The email of the account is not in the chatter",
            trigger: ".o-mail-Chatter:not(:has(.o-mail-sync-Conversation))",
        },
        {
            content: "... but on the contact's Emails button",
            trigger: ".oe_stat_button:contains(Emails):contains(1)",
        },
        shot("item_chatter_choice_contact"),
    ],
});

tours.add("mail_crm_sync_titled_error_tour", {
    steps: () => [
        {
            content: "Write an email from the opportunity",
            trigger: ".o_form_view button[name=action_mail_sync_compose]",
            run: "click",
        },
        {
            content: "Send it without a recipient",
            trigger: ".modal button[name=action_send]",
            run: "click",
        },
        {
            content: "The error dialog opens",
            trigger: ".modal:contains(Add at least one recipient.) .modal-title",
        },
        shot("item9_no_recipient"),
        {
            content: "It is titled by what happened",
            trigger: ".modal .modal-title:contains(Check the Recipients)",
        },
    ],
});
