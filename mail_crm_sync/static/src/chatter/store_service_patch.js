/** @odoo-module **/

import { Store } from "@mail/core/common/store_service";
import { patch } from "@web/core/utils/patch";

// The chatter's search also looks through the record's synced emails (first page of results).
patch(Store.prototype, {
    async search(searchTerm, thread, before = false) {
        const [result] = await Promise.all([
            super.search(...arguments),
            thread.mailSyncEnabled && !before ? thread.searchMailSync(searchTerm) : null,
        ]);
        return result;
    },
});
