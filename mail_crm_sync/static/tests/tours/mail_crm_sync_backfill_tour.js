/** @odoo-module **/

import { registry } from "@web/core/registry";

// On a contact, a salesman asks for older mail with that person, sees it is under way, and stops it.
registry.category("web_tour.tours").add("mail_crm_sync_backfill_contact_tour", {
    steps: () => [
        {
            content: "Fetch Older Mail on the contact",
            trigger: ".o_form_view .o_form_statusbar button[name=action_mail_sync_fetch_older_mail]",
            run: "click",
        },
        {
            content: "The salesman is told where it is looked for",
            trigger: ".o_notification:contains(Looking for older mail with tour.bob@client.example)",
        },
        {
            content: "The contact says it is under way, with a Stop button",
            trigger: ".o_form_view .alert:contains(Looking for older mail with this person) button[name=action_mail_sync_stop_older_mail]",
            run: "click",
        },
        {
            content: "Stopped: Fetch Older Mail is offered again",
            trigger: ".o_form_view:not(:has(.alert button[name=action_mail_sync_stop_older_mail])) .o_form_statusbar button[name=action_mail_sync_fetch_older_mail]",
        },
    ],
});

// On a mail account, its owner asks for a year of older mail, sees it waits for the quiet hours,
// stops it, and checks the account's completeness.
registry.category("web_tour.tours").add("mail_crm_sync_backfill_account_tour", {
    steps: () => [
        {
            content: "Fetch Older Mail on the account",
            trigger: ".o_form_view .o_form_statusbar button[name=action_fetch_older_mail]",
            run: "click",
        },
        {
            content: "How far back: the last year",
            trigger: ".modal .o_field_widget[name=reach] input[data-value='1_year']",
            run: "click",
        },
        {
            content: "Fetch",
            trigger: ".modal footer button[name=action_start]",
            run: "click",
        },
        {
            content: "The account says it waits for the quiet hours, with a Stop button",
            trigger: ".o_form_view .alert:contains(Waiting for the quiet hours) button[name=action_stop_backfill]",
            run: "click",
        },
        {
            content: "Stopped",
            trigger: ".o_notification:contains(Fetching older mail stopped)",
        },
        {
            content: "Check Completeness",
            trigger: ".o_form_view:not(:has(.alert button[name=action_stop_backfill])) .o_form_statusbar button[name=action_check_completeness]",
            run: "click",
        },
        {
            content: "The account is complete",
            trigger: ".o_notification:contains(Complete: the CRM holds the mail of the window)",
        },
        {
            // The notice reloads the form, which opens on its first tab again: wait for the
            // reloaded form (it shows when completeness was checked) before opening Folders.
            content: "The form shows when completeness was checked",
            trigger: ".o_form_view .o_field_widget[name=completeness_date]",
        },
        {
            content: "The Folders tab shows each folder's figures",
            trigger: ".o_notebook a[name=folders]",
            run: "click",
        },
        {
            content: "INBOX: 2 on the server in the window, 2 in the CRM, none missing",
            trigger: ".o_field_widget[name=folder_ids] .o_data_row:contains(INBOX):has(td[name=window_count]:contains(2)):has(td[name=crm_count]:contains(2)):has(td[name=missing_count]:contains(0))",
        },
    ],
});
