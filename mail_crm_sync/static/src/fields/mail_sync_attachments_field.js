/** @odoo-module **/

import { browser } from "@web/core/browser/browser";
import { useFileViewer } from "@web/core/file_viewer/file_viewer_hook";
import { registry } from "@web/core/registry";
import { X2ManyField, x2ManyField } from "@web/views/fields/x2many/x2many_field";

/**
 * The attachments of a synced email: a click on a row opens the file itself (its bytes come from
 * the mail server through /mail_crm_sync/attachment/<id>), never the record. Images and PDFs
 * show in Odoo's file viewer; anything else is downloaded in a new tab, as the route decides.
 */
export class MailSyncAttachmentsField extends X2ManyField {
    setup() {
        super.setup();
        this.fileViewer = useFileViewer();
    }

    async openRecord(record) {
        const url = `/mail_crm_sync/attachment/${record.resId}`;
        if (!record.data.opens_in_viewer) {
            browser.open(url, "_blank");
            return;
        }
        const isPdf = record.data.content_type === "application/pdf";
        const file = {
            id: record.resId,
            name: record.data.name,
            displayName: record.data.name,
            mimetype: record.data.content_type,
            isImage: !isPdf,
            isPdf,
            isText: false,
            isVideo: false,
            isUrlYoutube: false,
            isViewable: true,
            defaultSource: isPdf
                ? `/web/static/lib/pdfjs/web/viewer.html?file=${encodeURIComponent(url)}#pagemode=none`
                : url,
            downloadUrl: `${url}?download=1`,
        };
        this.fileViewer.open(file);
    }
}

registry.category("fields").add("mail_sync_attachments", {
    ...x2ManyField,
    component: MailSyncAttachmentsField,
});
