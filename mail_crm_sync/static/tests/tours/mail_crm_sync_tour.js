/** @odoo-module **/

import { registry } from "@web/core/registry";
import { stepUtils } from "@web_tour/tour_service/tour_utils";

// A salesman finds an email by a word of its body, reads it, and goes to the contact it concerns.
registry.category("web_tour.tours").add("mail_crm_sync_tour", {
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
            content: "The salesman's synced emails are listed",
            trigger: ".o_list_view .o_data_row:contains(Tour: planning the showroom)",
        },
        {
            content: "Search the full text for a word only in one body",
            trigger: ".o_searchview_input",
            run: "edit marmalade",
        },
        {
            content: "Choose to search it in the full text",
            trigger: ".o_searchview_autocomplete .o_menu_item:contains(Full Text)",
            run: "click",
        },
        {
            content: "Only the email with that word is left",
            trigger:
                ".o_list_view:not(:has(.o_data_row:contains(Tour: planning the showroom))) .o_data_row:contains(Tour: quotation for the marmalade kitchen)",
        },
        {
            content: "Open it",
            trigger: ".o_data_row td[name=display_name]:contains(Tour: quotation for the marmalade kitchen)",
            run: "click",
        },
        {
            content: "Its sanitized body shows",
            trigger: ".o_form_view .o_field_widget[name=body_html]:contains(orange marmalade):not(:has(script))",
        },
        {
            content: "Its linked contact shows",
            trigger: ".o_form_view .o_field_widget[name=partner_ids] .o_tag:contains(Tour Customer)",
        },
        {
            content: "Open the links",
            trigger: ".o_notebook a[name=links]",
            run: "click",
        },
        {
            content: "Each link says why it exists",
            trigger: ".o_field_widget[name=link_ids] .o_data_row:contains(Tour Customer):contains(Address in From, To or Cc)",
        },
        {
            content: "Go to the contact",
            trigger: ".o_field_widget[name=link_ids] .o_data_row:contains(Tour Customer) button[name=action_open_target]",
            run: "click",
        },
        {
            content: "The contact's Emails smart button counts both emails",
            trigger: ".o_form_view .oe_stat_button[name=action_view_mail_sync_messages] .o_stat_value:contains(2)",
        },
    ],
});
