"""The OAuth 2 sign-in of Gmail and Microsoft 365 accounts: out to the provider and back.

The state and the PKCE verifier stay in the user's Odoo session: a callback whose state this
session did not start is refused, so a sign-in cannot be slipped into someone else's account. The
provider is asked for the account's login (``login_hint``), but the user may pick another mailbox
there: ``_oauth_connect`` refuses a sign-in to any other mailbox, and the account shows why.
"""

import logging

from odoo import http
from odoo.exceptions import AccessError, UserError
from odoo.http import request
from werkzeug.exceptions import BadRequest, Forbidden, NotFound

from mail_crm_sync_engine import MailSyncError, authorization_url, new_pkce, new_state

_logger = logging.getLogger(__name__)

SESSION_KEY = "mail_crm_sync_oauth"
CALLBACK = "/mail_crm_sync/oauth/callback"


class MailSyncOAuth(http.Controller):
    @http.route("/mail_crm_sync/oauth/connect/<int:account_id>", type="http", auth="user", methods=["GET"])
    def connect(self, account_id):
        account = request.env["mail.sync.account"].browse(account_id).exists()
        if not account or account.provider not in ("gmail", "microsoft"):
            raise NotFound()
        try:
            account.check_access("write")
            if not account._can_see_password():
                raise AccessError(
                    request.env._("Only the owner or an administrator can connect this account.")
                )
            client_id, _secret = account._oauth_client()
        except (AccessError, UserError) as error:
            raise Forbidden(str(error)) from error
        state = new_state()
        verifier, challenge = new_pkce()
        pending = dict(request.session.get(SESSION_KEY) or {})
        pending[state] = {"account_id": account.id, "verifier": verifier}
        request.session[SESSION_KEY] = dict(list(pending.items())[-5:])  # a few tabs at most
        url = authorization_url(
            account._oauth_provider(),
            client_id,
            self._redirect_uri(),
            state,
            challenge,
            login_hint=account.login,
        )
        return request.redirect(url, local=False)

    @http.route(CALLBACK, type="http", auth="user", methods=["GET"])
    def callback(self, state=None, code=None, error=None, error_description=None, **_kwargs):
        pending = dict(request.session.get(SESSION_KEY) or {})
        started = pending.pop(state or "", None)
        request.session[SESSION_KEY] = pending
        if not started:
            raise BadRequest(
                request.env._(
                    "This sign-in was not started from this session: start it again from the account."
                )
            )
        account = request.env["mail.sync.account"].browse(started["account_id"]).exists()
        if not account:
            raise NotFound()
        back = f"/odoo/action-mail_crm_sync.mail_sync_account_action/{account.id}"
        if error or not code:
            message = request.env._(
                "The provider did not sign the account in: %(error)s",
                error=error_description or error or "no code",
            )
            account.sudo().last_error = message
            return request.redirect(back)
        try:
            account._oauth_connect(code, self._redirect_uri(), started["verifier"])
        except (MailSyncError, UserError) as failure:
            _logger.info("Sign-in of mail account %s failed: %s", account.id, failure)
            message = account._error_message(failure) if isinstance(failure, MailSyncError) else str(failure)
            account.sudo().last_error = message
        return request.redirect(back)

    def _redirect_uri(self):
        # The address the browser uses for Odoo; register it with the provider.
        return request.httprequest.url_root.rstrip("/") + CALLBACK
