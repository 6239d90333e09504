/** @odoo-module **/

import { rpc } from "@web/core/network/rpc";
import { registry } from "@web/core/registry";
import { stepUtils } from "@web_tour/tour_service/tour_utils";

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
    ],
});

tours.add("mail_crm_sync_email_delete_tour", {
    steps: () => [
        {
            content: "The email is open",
            trigger: ".o_form_view .o_form_statusbar button[name=action_delete_on_server]",
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
            run() {
                document.querySelector(".o-mail-sync-Conversation").scrollIntoView({ block: "center" });
            },
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
            trigger: ".modal .o_field_widget[name=partner_to_ids] .o_tag:contains(Jürgen Zöllner)",
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

tours.add("mail_crm_sync_older_mail_tour", {
    steps: () => [
        {
            content: "Fetch Older Mail on the contact",
            trigger: ".o_form_view .o_form_statusbar button[name=action_mail_sync_fetch_older_mail]",
            run: "click",
        },
        {
            content: "The contact says the search is under way",
            trigger: ".o_form_view .alert:contains(Looking for older mail with this person)",
        },
        shot("item7_search_under_way"),
        {
            content: "The scheduled action runs the search (Run Manually, as the administrator may)",
            trigger: "body",
            async run() {
                const [cron] = await rpc("/web/dataset/call_kw/ir.cron/search_read", {
                    model: "ir.cron",
                    method: "search_read",
                    args: [[["cron_name", "ilike", "fetch older mail"]], ["id"]],
                    kwargs: {},
                });
                await rpc("/web/dataset/call_kw/ir.cron/method_direct_trigger", {
                    model: "ir.cron",
                    method: "method_direct_trigger",
                    args: [[cron.id]],
                    kwargs: {},
                });
                await new Promise((resolve) => setTimeout(resolve, 4000));
            },
        },
        shot("item7_search_ended"),
        {
            content: "Without a reload: the banner is gone and the older email is counted",
            trigger:
                ".o_form_view:not(:has(.alert:contains(Looking for older mail))) button[name=action_view_mail_sync_messages]:contains(2)",
        },
    ],
});

tours.add("mail_crm_sync_folders_tour", {
    steps: () => [
        {
            content: "Open the account's folders",
            trigger: ".o_form_view .o_notebook a[name=folders]",
            run: "click",
        },
        {
            content: "The folders are listed",
            trigger: ".o_field_widget[name=folder_ids] .o_data_row:contains(Junk)",
        },
        shot("item6_account_folders"),
        {
            content: "Junk is not synced: no count of emails in the CRM, rather than a 0",
            trigger: ".o_field_widget[name=folder_ids] .o_data_row:contains(Junk) td[name=message_count]:empty",
        },
        {
            content: "Before any completeness check, no server-side count either",
            trigger: ".o_field_widget[name=folder_ids] .o_data_row:contains(INBOX) td[name=crm_count]:empty",
        },
        stepUtils.showAppsMenuItem(),
        {
            content: "Open CRM",
            trigger: '.o_app[data-menu-xmlid="crm.crm_menu_root"]',
            run: "click",
        },
        {
            content: "Open CRM > Emails",
            trigger: '.o_main_navbar button[data-menu-xmlid="mail_crm_sync.mail_sync_message_menu"]',
            run: "click",
        },
        {
            content: "My Emails",
            trigger: '.dropdown-item[data-menu-xmlid="mail_crm_sync.mail_sync_message_menu_mine"]',
            run: "click",
        },
        {
            content: "The list is there",
            trigger: ".o_list_view .o_data_row",
        },
        shot("item6_my_emails"),
        {
            content: "Named as the menu is, and filtered by what the account form calls it",
            trigger:
                ".o_control_panel:has(.o_breadcrumb:contains(My Emails)) .o_searchview_facet:contains(Shown in My Emails)",
        },
    ],
});

function scrollTo(selector) {
    return {
        content: `Scroll to ${selector}`,
        trigger: ".o_setting_container",
        run() {
            document.querySelector(selector)?.scrollIntoView({ block: "start" });
        },
    };
}

tours.add("mail_crm_sync_settings_tour", {
    steps: () => [
        scrollTo("#mail_sync_connect_policy"),
        shot("item10_settings_accounts"),
        scrollTo("#mail_sync_relink_hour"),
        shot("item10_settings_sync"),
        {
            content: "The Mail Accounts list is one click away",
            trigger: "#mail_sync_accounts button:contains(Mail Accounts)",
        },
        {
            content: "The redirect URI to register is the real one, to copy",
            trigger:
                "#mail_sync_google .o_field_widget[name=mail_sync_oauth_redirect_uri]:contains(/mail_crm_sync/oauth/callback):has(.o_clipboard_button)",
        },
        {
            content: "Hours say what they are",
            trigger: "#mail_sync_relink_hour:contains(your time zone):contains(At)",
        },
        {
            content: "A setting with its unit keeps its title",
            trigger: "#mail_sync_run_minutes:contains(Longest Sync of an Account):contains(minutes)",
        },
    ],
});

tours.add("mail_crm_sync_reconnect_tour", {
    steps: () => [
        {
            content: "The account needs the password again",
            trigger: ".o_form_view .o_statusbar_status .o_arrow_button_current:contains(Needs Re-connect)",
        },
        shot("seed_reconnect_account_form"),
        {
            content: "It says what to do",
            trigger: ".o_form_view .alert:contains(The mail server refused the password):contains(Test Connection)",
        },
        {
            content: "Enter the current password",
            trigger: ".o_form_view .o_field_widget[name=password] input",
            run: "edit tour-right-password",
        },
        {
            content: "Test Connection",
            trigger: ".o_form_statusbar button[name=action_test_connection].btn-primary",
            run: "click",
        },
        {
            content: "Active again",
            trigger: ".o_form_view .o_statusbar_status .o_arrow_button_current:contains(Active)",
        },
        shot("seed_reconnect_account_active_again"),
    ],
});

tours.add("mail_crm_sync_signature_tour", {
    steps: () => [
        {
            content: "Open the Outgoing tab",
            trigger: ".o_form_view .o_notebook a[name=smtp]",
            run: "click",
        },
        {
            content: "Select the signature's text",
            trigger: ".o_field_widget[name=signature] .odoo-editor-editable p:contains(Nina New)",
            run() {
                const paragraph = document.querySelector(".o_field_widget[name=signature] .odoo-editor-editable p");
                paragraph.closest(".odoo-editor-editable").focus();
                const range = document.createRange();
                range.selectNodeContents(paragraph);
                document.getSelection().removeAllRanges();
                document.getSelection().addRange(range);
            },
        },
        {
            content: "The editor's toolbar offers the code view, without developer mode",
            trigger: ".o-we-toolbar button[name=codeview]",
            run: "click",
        },
        {
            content: "The signature's HTML source",
            trigger: ".o_field_widget[name=signature] textarea.o_codeview:value(Nina New)",
        },
        shot("seed_signature_html_source"),
        {
            content: "Back to the rich text",
            trigger: ".o_field_widget[name=signature] #codeview-btn-group button",
            run: "click",
        },
        {
            content: "Rich text again",
            trigger: ".o_field_widget[name=signature] .odoo-editor-editable p:contains(Nina New)",
        },
    ],
});
