/** @odoo-module **/

import { registry } from "@web/core/registry";

// A salesman works an unassigned email from an unknown sender: a contact and an opportunity from
// it in two clicks each, then unlinks the contact and undoes it.
registry.category("web_tour.tours").add("mail_crm_sync_queue_tour", {
    steps: () => [
        {
            content: "The unassigned email is open",
            trigger: ".o_form_view .alert-info:contains(not linked to any contact)",
        },
        {
            content: "Create a contact from it",
            trigger: ".o_form_view button[name=action_create_contact]",
            run: "click",
        },
        {
            content: "Name, address and company are filled in from the email",
            trigger:
                ".o_form_view:has(.o_field_widget[name=email] input:value(dora@acme-tools.example)):has(.o_field_widget[name=company_name] input:value(Acme Tools)) .o_field_widget[name=name] input:value(Dora Buyer)",
        },
        {
            content: "Save the contact",
            trigger: ".o_form_view .o_form_button_save",
            run: "click",
        },
        {
            content: "Back to the email",
            trigger: ".o_breadcrumb a:contains(Quote for 40 chairs?)",
            run: "click",
        },
        {
            content: "The email shows on the new contact",
            trigger: ".o_form_view .o_field_widget[name=partner_ids] .o_tag:contains(Dora Buyer)",
        },
        {
            content: "Create an opportunity from it",
            trigger: ".o_form_view button[name=action_create_opportunity]",
            run: "click",
        },
        {
            content: "Its name is the subject, its contact the sender",
            trigger:
                ".o_form_view:has(.o_field_widget[name=partner_id] input:value(Dora Buyer)) .o_field_widget[name=name] textarea:value(Quote for 40 chairs?)",
        },
        {
            content: "Save the opportunity",
            trigger: ".o_form_view .o_form_button_save",
            run: "click",
        },
        {
            content: "The opportunity counts the email",
            trigger: ".o_form_view button[name=action_view_mail_sync_messages]:contains(1)",
        },
        {
            content: "Back to the email",
            trigger: ".o_breadcrumb a:contains(Quote for 40 chairs?)",
            run: "click",
        },
        {
            content: "The email shows on the opportunity",
            trigger: ".o_form_view .o_field_widget[name=lead_ids] .o_tag:contains(Quote for 40 chairs?)",
        },
        {
            content: "Open the links",
            trigger: ".o_notebook a[name=links]",
            run: "click",
        },
        {
            content: "Unlink the contact",
            trigger: ".o_field_widget[name=link_ids] .o_data_row:contains(Dora Buyer) button[name=action_unlink]",
            run: "click",
        },
        {
            content: "Confirm",
            trigger: ".modal .modal-footer .btn-primary",
            run: "click",
        },
        {
            content: "It says how to undo",
            trigger: ".o_notification:contains(Restore)",
        },
        {
            content: "Undo: restore the link",
            trigger: ".o_field_widget[name=link_history_ids] .o_data_row:contains(Dora Buyer) button[name=action_link_again]",
            run: "click",
        },
        {
            content: "The email shows on the contact again",
            trigger: ".o_notification:contains(again)",
        },
        {
            content: "The contact is back among the links",
            trigger: ".o_field_widget[name=link_ids] .o_data_row:contains(Dora Buyer):contains(Linked by hand)",
        },
    ],
});
