from odoo import fields, http
from odoo.addons.mail.controllers.thread import ThreadController
from odoo.http import request


class MailSyncTimeline(ThreadController):
    """The chatter's messages of a contact, company or opportunity come with the synced emails of
    the same dates, read as the user (see ``mail.sync.message._timeline``)."""

    @http.route()
    def mail_thread_messages(  # noqa: PLR0913 - the signature of the route it extends
        self, thread_model, thread_id, search_term=None, before=None, after=None, around=None, limit=30
    ):
        result = super().mail_thread_messages(
            thread_model,
            thread_id,
            search_term=search_term,
            before=before,
            after=after,
            around=around,
            limit=limit,
        )
        emails = request.env["mail.sync.message"]
        if search_term or emails._timeline_domain(thread_model, thread_id) is None:
            return result
        newer_than, not_newer_than = _page_dates(result["messages"], before, after, around, limit)
        result["mail_crm_sync"] = emails._timeline(thread_model, int(thread_id), newer_than, not_newer_than)
        return result

    @http.route("/mail_crm_sync/chatter/search", methods=["POST"], type="json", auth="user")
    def chatter_search(self, thread_model, thread_id, search_term):
        """The record's synced emails found by the chatter's search."""
        return request.env["mail.sync.message"]._timeline_search(thread_model, int(thread_id), search_term)


def _page_dates(message_ids, before, after, around, limit):
    """The dates a page of chatter messages spans, as (newer_than, not_newer_than), either None
    for open: the emails shown with this page. A page that is not full reaches the oldest end."""
    messages = request.env["mail.message"].browse(message_ids)
    full = len(message_ids) >= limit
    oldest = min(messages.mapped("date")) if full and messages else None

    def date_of(message_id):
        return request.env["mail.message"].browse(int(message_id)).sudo().date or fields.Datetime.now()

    if after:
        # Newer messages, after one already shown: the emails since that one.
        return date_of(after), (max(messages.mapped("date")) if full else None)
    if around is not None:
        return oldest, None
    return oldest, (date_of(before) if before else None)
