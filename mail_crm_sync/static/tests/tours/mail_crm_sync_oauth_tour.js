/** @odoo-module **/

import { registry } from "@web/core/registry";

// A salesman connects Gmail from their preferences (the sign-in is the loopback authorization
// server's), downloads the mail and sees it.
registry.category("web_tour.tours").add("mail_crm_sync_oauth_tour", {
    steps: () => [
        {
            content: "Open the user menu",
            trigger: ".o_user_menu button",
            run: "click",
        },
        {
            content: "My Preferences",
            trigger: ".dropdown-item[data-menu=settings]",
            run: "click",
        },
        {
            content: "The Mail Accounts tab",
            trigger: ".modal .o_notebook a[name=mail_sync_accounts]",
            run: "click",
        },
        {
            content: "Connect Gmail",
            trigger: ".modal button[name=action_mail_sync_connect_gmail]",
            run: "click",
        },
        {
            content: "Back from the sign-in, the account is connected",
            trigger: ".o_form_view .o_statusbar_status .o_arrow_button_current:contains(Active)",
        },
        {
            content: "Its folders are listed",
            trigger: ".o_form_view .o_notebook a[name=folders]",
            run: "click",
        },
        {
            content: "Inbox is synced",
            trigger: ".o_field_widget[name=folder_ids] .o_data_row:contains(INBOX)",
        },
        {
            content: "Download the new mail",
            trigger: ".o_form_view button[name=action_sync_now]",
            run: "click",
        },
        {
            content: "Open its emails",
            trigger: ".o_form_view button[name=action_open_messages]:contains(1)",
            run: "click",
        },
        {
            content: "The mail arrived",
            trigger: ".o_list_view .o_data_row:contains(OAuth tour: hello from Alice)",
        },
    ],
});
