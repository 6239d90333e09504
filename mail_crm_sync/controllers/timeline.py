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
        domain = None if search_term else emails._timeline_domain(thread_model, int(thread_id))
        if domain is None:
            return result
        if after:
            # Newer messages, after those shown: the newest conversations, which the chatter merges
            # with those it has. Not bounded by that message's date: an email synced now may be
            # dated before the last note.
            timeline = emails._timeline(thread_model, int(thread_id), domain)
            timeline.pop("more")
        else:
            newer_than, not_newer_than = _page_dates(result["messages"], before, around, limit)
            timeline = emails._timeline(thread_model, int(thread_id), domain, newer_than, not_newer_than)
        result["mail_crm_sync"] = timeline
        return result

    @http.route("/mail_crm_sync/chatter/search", methods=["POST"], type="json", auth="user")
    def chatter_search(self, thread_model, thread_id, search_term):
        """The record's synced emails found by the chatter's search."""
        return request.env["mail.sync.message"]._timeline_search(thread_model, int(thread_id), search_term)


def _page_dates(message_ids, before, around, limit):
    """The dates a page of chatter messages spans, as (newer_than, not_newer_than), either None
    for open: the emails shown with this page. A page that is not full reaches the oldest end."""
    messages = request.env["mail.message"].browse(message_ids)
    oldest = min(messages.mapped("date")) if len(message_ids) >= limit and messages else None
    if around is not None or not before:
        return oldest, None
    return oldest, request.env["mail.message"].browse(int(before)).sudo().date or fields.Datetime.now()
