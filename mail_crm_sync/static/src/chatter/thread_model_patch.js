/** @odoo-module **/

import { Thread } from "@mail/core/common/thread_model";
import { rpc } from "@web/core/network/rpc";
import { patch } from "@web/core/utils/patch";

/**
 * The synced emails of a contact, company or opportunity, kept beside the chatter's messages.
 *
 * They come with each page of messages (the server adds them to /mail/thread/messages for the
 * dates that page spans, read as the user), grouped by conversation and keyed by it, so that a
 * later page or a newer email replaces a conversation rather than showing it twice.
 */
patch(Thread.prototype, {
    setup() {
        super.setup();
        /** @type {Object[]} conversations, newest first */
        this.mailSyncConversations = [];
        /** conversations the server left out: the Emails smart button lists them */
        this.mailSyncMore = 0;
        /** what the chatter's search found among the synced emails */
        this.mailSyncSearch = { term: undefined, emails: [], count: 0 };
        /** whether this record's chatter shows synced mail (the server sent some for it) */
        this.mailSyncEnabled = false;
    },

    get isEmpty() {
        return super.isEmpty && !this.mailSyncConversations.length;
    },

    async fetchMessagesData() {
        const result = await super.fetchMessagesData(...arguments);
        if (result.mail_crm_sync) {
            this.mailSyncEnabled = true;
            this.addMailSyncConversations(result.mail_crm_sync);
        }
        return result;
    },

    addMailSyncConversations({ conversations, more }) {
        const byKey = new Map(this.mailSyncConversations.map((c) => [c.key, c]));
        for (const conversation of conversations) {
            byKey.set(conversation.key, conversation);
        }
        this.mailSyncConversations = [...byKey.values()].sort((a, b) =>
            a.date < b.date ? 1 : a.date > b.date ? -1 : 0
        );
        if (more !== undefined) {
            this.mailSyncMore = more;
        }
    },

    async searchMailSync(term) {
        const found = await rpc("/mail_crm_sync/chatter/search", {
            thread_model: this.model,
            thread_id: this.id,
            search_term: term,
        });
        this.mailSyncSearch = { term, ...found };
    },
});
