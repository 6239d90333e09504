/** @odoo-module **/

import { registry } from "@web/core/registry";

// From the CRM, a salesman connects a mailbox in two clicks (CRM > Emails > Connect a Mail Account),
// then works their unassigned mail: only theirs, and Download New Messages says how many came.
registry.category("web_tour.tours").add("mail_crm_sync_inbox_tour", {
    url: "/odoo/crm",
    steps: () => [
        {
            content: "Click 1: the Emails menu of the CRM",
            trigger: '.o_main_navbar button[data-menu-xmlid="mail_crm_sync.mail_sync_message_menu"]',
            run: "click",
        },
        {
            content: "Click 2: Connect a Mail Account",
            trigger: '.dropdown-item[data-menu-xmlid="mail_crm_sync.mail_sync_account_menu_connect"]',
            run: "click",
        },
        {
            content: "A new mail account form is open, ready for the IMAP server",
            trigger:
                ".o_form_view .o_form_editable:has(.o_field_widget[name=provider]):has(.o_field_widget[name=imap_host] input)",
        },
        {
            content: "Back to the emails: the Emails menu",
            trigger: '.o_main_navbar button[data-menu-xmlid="mail_crm_sync.mail_sync_message_menu"]',
            run: "click",
        },
        {
            content: "Unassigned",
            trigger: '.dropdown-item[data-menu-xmlid="mail_crm_sync.mail_sync_message_menu_unassigned"]',
            run: "click",
        },
        {
            content: "Discard the empty account form if asked",
            trigger: ".o_list_view, .modal button:contains(Discard)",
            run() {
                const discard = document.querySelector(".modal button.btn-secondary");
                if (discard && discard.textContent.includes("Discard")) {
                    discard.click();
                }
            },
        },
        {
            content: "Both filters are on, as two facets (mine AND unassigned)",
            trigger:
                ".o_searchview .o_searchview_facet:contains(My Emails) ~ .o_searchview_facet:contains(Unassigned)",
        },
        {
            content: "Only the salesman's unassigned mail is listed",
            trigger:
                ".o_list_view:not(:has(.o_data_row:contains(known buyer))):not(:has(.o_data_row:contains(colleague's stranger))) .o_data_row:contains(Inbox tour: stranger asks)",
        },
        {
            content: "Download New Messages, in the list's header",
            trigger: ".o_control_panel button:contains(Download New Messages)",
            run: "click",
        },
        {
            content: "It says how many emails came",
            trigger: ".o_notification:contains(1 new email)",
        },
        {
            content: "The new email is in the unassigned list",
            trigger: ".o_list_view .o_data_row:contains(Inbox tour: late stranger)",
        },
    ],
});

// A salesman without a mail account opens CRM > Emails: the empty list offers to connect one.
registry.category("web_tour.tours").add("mail_crm_sync_connect_tour", {
    url: "/odoo/crm",
    steps: () => [
        {
            content: "Click 1: the Emails menu of the CRM",
            trigger: '.o_main_navbar button[data-menu-xmlid="mail_crm_sync.mail_sync_message_menu"]',
            run: "click",
        },
        {
            content: "Click 2: My Emails",
            trigger: '.dropdown-item[data-menu-xmlid="mail_crm_sync.mail_sync_message_menu_mine"]',
            run: "click",
        },
        {
            content: "The empty list offers Gmail and Microsoft 365",
            trigger:
                ".o_view_nocontent:has(a:contains(Connect Gmail)):has(a:contains(Connect Microsoft 365))",
        },
        {
            content: "The user menu offers to connect one too",
            trigger: ".o_user_menu button",
            run: "click",
        },
        {
            content: "Connect a Mail Account, in the user menu",
            trigger: '.dropdown-item[data-menu="mail_crm_sync_connect"]',
        },
        {
            content: "Close the user menu",
            trigger: ".o_user_menu button",
            run: "click",
        },
        {
            content: "Click 3: Other mailbox (IMAP)",
            trigger: ".o_view_nocontent a:contains(Other mailbox (IMAP))",
            run: "click",
        },
        {
            content: "A new mail account form is open, ready for the IMAP server",
            trigger: ".o_form_view .o_form_editable .o_field_widget[name=imap_host] input",
        },
    ],
});
