/** @odoo-module **/

import { registry } from "@web/core/registry";

const conversation = ".o-mail-sync-Conversation[data-conversation='<chatter-request@acme-tools.example>']";
const latest = `.o-mail-Chatter ${conversation}`;

// A salesman opens a contact and reads its mail in the chatter: the latest email of each
// conversation is there without a click, the earlier ones one click away.
registry.category("web_tour.tours").add("mail_crm_sync_chatter_tour", {
    steps: () => [
        {
            content: "The contact's chatter shows the answer, the latest email of the conversation, without its quoted history",
            trigger: `${latest}:contains(Re: Quote for 40 chairs?):contains(Here is our quote.):not(:contains(> Could you)):contains(2 emails in this conversation)`,
        },
        {
            content: "The older, separate email is below it, in date order",
            trigger: `${latest} ~ .o-mail-sync-Conversation:contains(Please send your catalogue.)`,
        },
        {
            content: "Download the new mail from the contact's page",
            trigger: ".o_form_view .o_form_statusbar button:contains(Check My Mailboxes)",
            run: "click",
        },
        {
            content: "It says how many came",
            trigger: ".o_notification:contains(1 new email)",
        },
        {
            content: "The new email is at the top of the chatter, above the answer",
            trigger: `.o-mail-Chatter .o-mail-sync-Conversation:contains(When could the chairs be delivered?) ~ ${conversation}`,
        },
        {
            content: "Show the conversation's earlier email",
            trigger: `${latest} .o-mail-sync-Conversation-toggle`,
            run: "click",
        },
        {
            content: "Dora's request is there",
            trigger: `${latest} .o-mail-sync-Conversation-earlier:contains(Could you quote 40 chairs for our new office?)`,
        },
    ],
});

// Then finds the emails with the chatter's own search.
registry.category("web_tour.tours").add("mail_crm_sync_chatter_search_tour", {
    steps: () => [
        {
            content: "The chatter has loaded the contact's mail",
            trigger: latest,
        },
        {
            content: "Search the chatter",
            trigger: ".o-mail-Chatter button[title='Search Messages']",
            run: "click",
        },
        {
            content: "Type the start of a word",
            trigger: ".o-mail-Chatter .o-mail-SearchMessageInput input",
            run: "edit chair",
        },
        {
            content: "Search",
            trigger: ".o-mail-Chatter .o-mail-SearchMessageInput input",
            run: "press Enter",
        },
        {
            content: "The emails about chairs are found, the catalogue email is not",
            trigger:
                ".o-mail-Chatter .o-mail-sync-SearchResult:has(.o-mail-sync-Conversation:contains(Here is our quote.)):has(.o-mail-sync-Conversation:contains(Could you quote 40 chairs)):not(:contains(catalogue))",
        },
        {
            content: "The count says so",
            trigger: ".o-mail-Chatter .o-mail-SearchMessagesPanel-title:contains(3 emails found)",
            run() {
                // for the screenshot a person looks at
                this.anchor.scrollIntoView({ block: "start" });
            },
        },
    ],
});

// And answers the latest email from the timeline, and opens the whole email: one click each.
registry.category("web_tour.tours").add("mail_crm_sync_chatter_open_tour", {
    steps: () => [
        {
            content: "Reply to the latest email",
            trigger: `${latest} .o-mail-sync-Conversation-reply`,
            run: "click",
        },
        {
            content: "The composer answers it: to Dora, the subject kept",
            trigger:
                ".modal .o_form_view:has(.o_field_widget[name=partner_to_ids] .o_tag:contains(Dora Buyer)) .o_field_widget[name=subject] input:value(Re: Quote for 40 chairs?)",
        },
        {
            content: "Close the composer without writing anything",
            trigger: ".modal .modal-header .btn-close",
            run: "click",
        },
        {
            content: "Open the latest email of the conversation",
            trigger: `${latest} .o-mail-sync-Conversation-open`,
            run: "click",
        },
        {
            content: "The whole email is open, its quoted history too",
            trigger:
                ".o_form_view:has(h1 .o_field_widget[name=display_name]:contains(Re: Quote for 40 chairs?)) .o_field_widget[name=body_text]:contains(Could you quote 40 chairs?)",
        },
        {
            content: "Its contacts are shown by their whole names, long ones too",
            trigger: ".o_form_view .o_field_widget[name=partner_ids] .o_tag:contains(Seating Supplies, Dora Buyer)",
            run() {
                for (const text of document.querySelectorAll(
                    ".o_field_widget[name=partner_ids] .o_tag_badge_text"
                )) {
                    if (text.scrollWidth > text.clientWidth + 1) {
                        throw new Error(`The tag "${text.textContent}" is cut`);
                    }
                }
            },
        },
    ],
});
