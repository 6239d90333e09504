/** @odoo-module **/

import { Thread } from "@mail/core/common/thread";
import { useService } from "@web/core/utils/hooks";
import { patch } from "@web/core/utils/patch";
import { MailSyncConversation, mailSyncDateTime, mailSyncDateDay } from "./mail_sync_conversation";

Thread.components = { ...Thread.components, MailSyncConversation };

/**
 * The chatter's timeline: its messages and the record's email conversations, in date order
 * (a conversation stands at the date of its latest email).
 */
patch(Thread.prototype, {
    setup() {
        super.setup();
        this.mailSyncAction = useService("action");
        this.mailSyncOrm = useService("orm");
    },

    async mailSyncOpenAll() {
        const { model, id } = this.props.thread;
        const action = await this.mailSyncOrm.call(model, "action_view_mail_sync_messages", [[id]]);
        await this.mailSyncAction.doAction(action);
    },

    get orderedMessages() {
        const messages = super.orderedMessages;
        const conversations = this.props.thread.mailSyncConversations;
        if (!conversations?.length) {
            return messages;
        }
        const asc = this.props.order === "asc";
        const items = conversations.map((conversation) => {
            const datetime = mailSyncDateTime(conversation.date);
            return {
                id: `mail_crm_sync_${conversation.key}`,
                isMailSyncConversation: true,
                conversation,
                datetime,
                dateDay: mailSyncDateDay(datetime),
            };
        });
        // conversations come newest first
        if (asc) {
            items.reverse();
        }
        const merged = [];
        let next = 0;
        for (const message of messages) {
            while (
                next < items.length &&
                (asc ? items[next].datetime < message.datetime : items[next].datetime > message.datetime)
            ) {
                merged.push(items[next++]);
            }
            merged.push(message);
        }
        merged.push(...items.slice(next));
        return merged;
    },
});
