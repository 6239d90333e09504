/** @odoo-module **/

import { SearchMessageResult } from "@mail/core/common/search_message_result";
import { _t } from "@web/core/l10n/translation";
import { patch } from "@web/core/utils/patch";
import { MailSyncConversation } from "./mail_sync_conversation";

SearchMessageResult.components = { ...SearchMessageResult.components, MailSyncConversation };

// The chatter's search lists the record's synced emails it found below the messages it found.
patch(SearchMessageResult.prototype, {
    get mailSyncFound() {
        const found = this.props.thread.mailSyncSearch;
        return found && found.term === this.props.messageSearch.searchTerm ? found : null;
    },

    get mailSyncEmails() {
        // each found email as a one-email conversation card
        return (this.mailSyncFound?.emails || []).map((email) => ({
            key: `found_${email.id}`,
            date: email.date,
            count: 1,
            emails: [email],
        }));
    },

    get MESSAGE_FOUND() {
        const emails = this.mailSyncFound?.count || 0;
        if (!emails || !this.props.messageSearch.searched) {
            return super.MESSAGE_FOUND;
        }
        if (this.props.messageSearch.messages.length === 0) {
            return _t("%s emails found", emails);
        }
        return _t("%(messages)s messages and %(emails)s emails found", {
            messages: this.props.messageSearch.count,
            emails,
        });
    },
});
