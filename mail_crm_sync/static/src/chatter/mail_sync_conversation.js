/** @odoo-module **/

import { Component, useState } from "@odoo/owl";
import { _t } from "@web/core/l10n/translation";
import { deserializeDateTime } from "@web/core/l10n/dates";
import { useService } from "@web/core/utils/hooks";
import { user } from "@web/core/user";

const { DateTime } = luxon;

/** @param {string} value a UTC datetime as the server writes it */
export function mailSyncDateTime(value) {
    return value ? deserializeDateTime(value) : DateTime.fromMillis(0);
}

/** The day heading of the chatter for this moment, as the chatter's messages have it. */
export function mailSyncDateDay(datetime) {
    const day = datetime.toLocaleString(DateTime.DATE_MED);
    return day === DateTime.now().toLocaleString(DateTime.DATE_MED) ? _t("Today") : day;
}

/**
 * One email conversation in the chatter: its latest email as a card (who wrote to whom, when,
 * the words written without the quoted history), the earlier emails of the conversation one
 * click away, and Open and Reply for each email.
 */
export class MailSyncConversation extends Component {
    static template = "mail_crm_sync.MailSyncConversation";
    // fullDate: the day too, where no day heading is above the card (search results)
    static props = ["conversation", "thread", "fullDate?"];

    setup() {
        this.action = useService("action");
        this.orm = useService("orm");
        this.state = useState({ expanded: false });
    }

    get latest() {
        return this.props.conversation.emails[0];
    }

    get earlier() {
        return this.props.conversation.emails.slice(1);
    }

    get olderThanShown() {
        return this.props.conversation.count - this.props.conversation.emails.length;
    }

    when(email) {
        const datetime = mailSyncDateTime(email.date);
        return datetime.toLocaleString(DateTime.DATETIME_MED, { locale: user.lang });
    }

    time(email) {
        return mailSyncDateTime(email.date).toLocaleString(DateTime.TIME_SIMPLE, { locale: user.lang });
    }

    async open(email) {
        await this.action.doAction({
            type: "ir.actions.act_window",
            res_model: "mail.sync.message",
            res_id: email.id,
            views: [[false, "form"]],
            target: "current",
        });
    }

    async reply(email) {
        const action = await this.orm.call("mail.sync.message", "action_reply", [[email.id]]);
        await this.action.doAction(action, {
            onClose: () => this.props.thread.fetchNewMessages(),
        });
    }
}
