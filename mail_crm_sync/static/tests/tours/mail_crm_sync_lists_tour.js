/** @odoo-module **/

import { registry } from "@web/core/registry";
import { stepUtils } from "@web_tour/tour_service/tour_utils";

// A salesman finds "chairs" by typing "chair", opens the email and its PDF attachment.
// Clicks: CRM, Emails, Full Text, the email, Attachments, the PDF: six.
registry.category("web_tour.tours").add("mail_crm_sync_lists_tour", {
    url: "/odoo",
    steps: () => [
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
            content: "Open My Emails",
            trigger: '.dropdown-item[data-menu-xmlid="mail_crm_sync.mail_sync_message_menu_mine"]',
            run: "click",
        },
        {
            content: "Received mail shows its sender by name",
            trigger:
                ".o_data_row:contains(Tour: can you quote the chairs?) td[name=correspondent]:contains(Lisa Buyer)",
        },
        {
            content: "An email without a subject says so",
            trigger: ".o_data_row td[name=display_name]:contains((no subject))",
        },
        {
            content: "Type the beginning of a word",
            trigger: ".o_searchview_input",
            run: "edit chair",
        },
        {
            content: "Search it in the full text",
            trigger: ".o_searchview_autocomplete .o_menu_item:contains(Full Text)",
            run: "click",
        },
        {
            content: "The email about chairs is found, the other one is not",
            trigger:
                ".o_list_view:not(:has(.o_data_row:contains(Tour: lunch on Friday))) .o_data_row:contains(Tour: can you quote the chairs?)",
        },
        {
            content: "Open it",
            trigger: ".o_data_row td[name=display_name]:contains(Tour: can you quote the chairs?)",
            run: "click",
        },
        {
            content: "A salesman sees no Technical tab",
            trigger: ".o_form_view .o_notebook:not(:has(a[name=technical]))",
        },
        {
            content: "Open its attachments",
            trigger: ".o_notebook a[name=attachments]",
            run: "click",
        },
        {
            content: "Click the PDF, shown by name and human size",
            trigger:
                ".o_field_widget[name=attachment_ids] .o_data_row:contains(chairs-quote.pdf):contains(KB) td[name=name]",
            run: "click",
        },
        {
            content: "The PDF opens in Odoo's viewer, from the attachment route, without a dialog",
            trigger: ".o-FileViewer iframe[src*='%2Fmail_crm_sync%2Fattachment%2F']",
            run: async () => {
                if (document.querySelector(".modal .o_form_view")) {
                    throw new Error("A click on an attachment opened a dialog");
                }
                const iframe = document.querySelector(".o-FileViewer iframe");
                const file = new URL(iframe.src, location.href).searchParams.get("file");
                const response = await fetch(file);
                const type = response.headers.get("Content-Type");
                const bytes = new Uint8Array(await response.arrayBuffer());
                const head = String.fromCharCode(...bytes.slice(0, 5));
                if (response.status !== 200 || type !== "application/pdf" || head !== "%PDF-") {
                    throw new Error(`The PDF did not come: ${response.status} ${type} ${head}`);
                }
            },
        },
        {
            content: "Its name is in the viewer",
            trigger: ".o-FileViewer:contains(chairs-quote.pdf)",
        },
        {
            content: "The viewer has drawn the PDF's page",
            trigger: ".o-FileViewer iframe:iframe #viewer .page[data-loaded=true]",
        },
        {
            content: "Close the viewer: nothing is left loading when the tour ends",
            trigger: ".o-FileViewer-headerButton[aria-label=Close]",
            run: "click",
        },
        {
            content: "Back on the email",
            trigger: "body:not(:has(.o-FileViewer)) .o_form_view .o_notebook a[name=attachments]",
        },
    ],
});
