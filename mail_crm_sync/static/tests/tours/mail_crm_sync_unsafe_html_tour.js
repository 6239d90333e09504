/** @odoo-module **/

import { registry } from "@web/core/registry";

// An email full of XSS payloads is opened: nothing of it runs, nothing is fetched from other
// servers until the user asks for the images of that email.
registry.category("web_tour.tours").add("mail_crm_sync_unsafe_html_tour", {
    steps: () => [
        {
            content: "The email's body shows",
            trigger: ".o_form_view .o_field_widget[name=body_html]:contains(Quarterly figures)",
        },
        {
            content: "No payload ran, and the remote images are held back",
            trigger: ".o_form_view .o_field_widget[name=body_html]:not(:has(img[src*='pixel']))",
            run() {
                if (window.__mcs_xss !== undefined) {
                    throw new Error(`A payload ran: ${window.__mcs_xss}`);
                }
            },
        },
        {
            content: "Ask for the images of this email",
            trigger: ".o_form_view button[name=action_show_images]",
            run: "click",
        },
        {
            content: "Now the remote image loads",
            trigger: ".o_form_view .o_field_widget[name=body_html] img[src*='pixel']",
            run() {
                if (window.__mcs_xss !== undefined) {
                    throw new Error(`A payload ran: ${window.__mcs_xss}`);
                }
            },
        },
    ],
});
