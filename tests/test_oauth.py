"""Gmail and Microsoft 365 through OAuth 2, against the loopback authorization server: consent with
PKCE, tokens from google-auth and msal, XOAUTH2 on the harness Dovecot and SMTP server, refresh,
rotation, expiry and revocation, the identity signed in as, and a client the provider refuses."""

from __future__ import annotations

import dataclasses
import datetime
import json
import re
import ssl
import threading
import urllib.error
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from imapclient import IMAPClient

from mail_crm_sync_engine import (
    GMAIL,
    MICROSOFT_365,
    AuthenticationFailed,
    ClientRefused,
    ConnectionSettings,
    GrantRevoked,
    ProviderKind,
    Security,
    ServerUnreachable,
    SmtpSettings,
    TokenSet,
    authorization_url,
    configure,
    connect,
    exchange_code,
    imap_settings,
    needs_refresh,
    new_pkce,
    new_state,
    provider_files_sent_mail,
    refresh,
    revoke,
    send_message,
    smtp_settings,
    sync_folder,
)
from mail_crm_sync_engine.oauth import _identity
from mail_crm_sync_engine.testing import SmtpServer, free_port
from tests.mail_factory import make_mail

MINUTE = datetime.timedelta(minutes=1)


# -- fixtures ----------------------------------------------------------------------------------


@pytest.fixture
def oauth(oauth_dovecot):
    """The session's authorization server, set back to its defaults after each test."""
    server = oauth_dovecot.oauth
    yield server
    server.auto_approve = True
    server.rotate_refresh_tokens = False
    server.access_token_lifetime = 3600
    server.sign_in(None)
    server.refused_mailboxes.clear()


@pytest.fixture(params=list(ProviderKind))
def provider(request, oauth):
    """Gmail or Microsoft 365, their sign-in pointed at the loopback server by configuration."""
    return loopback_gmail(oauth) if request.param == ProviderKind.GOOGLE else loopback_microsoft(oauth)


def loopback_gmail(oauth):
    return configure(
        GMAIL,
        authorization_endpoint=oauth.google_authorization_uri,
        token_endpoint=oauth.google_token_uri,
        revocation_endpoint=oauth.google_revocation_uri,
        ca_file=oauth.ca_file,
    )


def loopback_microsoft(oauth):
    return configure(MICROSOFT_365, authority=oauth.microsoft_authority("contoso"), ca_file=oauth.ca_file)


@pytest.fixture
def client(oauth):
    return oauth.add_client()


@pytest.fixture(scope="session")
def callback():
    """The application's redirect endpoint: answers with the query it was given, as JSON."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(self.path).query))
            payload = json.dumps(query).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    server.url = f"http://127.0.0.1:{server.server_address[1]}/oauth/callback"
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="session")
def oauth_smtp(oauth_dovecot):
    with SmtpServer(oauth_introspection_url=oauth_dovecot.oauth.introspection_url) as server:
        yield server


def browser(oauth) -> urllib.request.OpenerDirector:
    """urllib trusting the loopback server's certificate, following redirects like a browser."""
    context = ssl.create_default_context(cafile=oauth.ca_file)
    return urllib.request.build_opener(urllib.request.HTTPSHandler(context=context))


def consent(oauth, provider, client, callback, login: str) -> tuple[dict, str, str]:
    """Go through /authorize as the user's browser would: (callback query, state, verifier)."""
    verifier, challenge = new_pkce()
    state = new_state()
    url = authorization_url(provider, client[0], callback.url, state, challenge, login_hint=login)
    with browser(oauth).open(url, timeout=10) as response:
        return json.load(response), state, verifier


def sign_in(oauth, provider, client, callback, login: str) -> TokenSet:
    query, _state, verifier = consent(oauth, provider, client, callback, login)
    return exchange_code(provider, *client, query["code"], callback.url, verifier)


def xoauth2(oauth_dovecot, login: str, tokens: TokenSet, provider=None) -> ConnectionSettings:
    return ConnectionSettings(
        oauth_dovecot.host,
        oauth_dovecot.port,
        Security.NONE,
        login,
        oauth_token=tokens.access_token,
        use_condstore=provider.use_condstore if provider else True,
    )


# -- consent and code exchange -----------------------------------------------------------------


def test_code_flow_with_pkce_gives_tokens_for_the_user(oauth, provider, client, callback, oauth_dovecot):
    user = oauth_dovecot.add_user()
    before = oauth.token_requests["authorization_code"]
    query, state, verifier = consent(oauth, provider, client, callback, user.login)
    assert query["state"] == state and query["code"]
    tokens = exchange_code(provider, *client, query["code"], callback.url, verifier)
    assert oauth.token_requests["authorization_code"] == before + 1
    assert oauth.username_for(tokens.access_token) == user.login
    assert tokens.refresh_token
    now = datetime.datetime.now(datetime.UTC)
    assert now + 59 * MINUTE < tokens.expires_at <= now + 60 * MINUTE
    assert "IMAP.AccessAsUser.All" in tokens.scope or "mail.google.com" in tokens.scope
    if provider.kind == ProviderKind.MICROSOFT:
        cache = json.loads(tokens.raw_cache)  # msal's cache, to be saved with the account
        assert cache["RefreshToken"] and cache["Account"]
    else:
        assert tokens.raw_cache is None
    assert tokens.access_token not in repr(tokens) and tokens.refresh_token not in repr(tokens)
    # Google: the email claim (scopes openid email); Microsoft: preferred_username.
    assert tokens.identity == user.login


def test_consent_page_allow_button_sends_the_code_back(oauth, client, callback):
    oauth.auto_approve = False
    provider = loopback_microsoft(oauth)
    verifier, challenge = new_pkce()
    url = authorization_url(
        provider, client[0], callback.url, "s-1", challenge, login_hint="ann@example.test"
    )
    with browser(oauth).open(url, timeout=10) as response:
        page = response.read().decode()
    assert "ann@example.test" in page and ">Allow</button>" in page
    fields = dict(re.findall(r'name="([^"]+)" value="([^"]*)"', page))
    allow = urllib.request.Request(url, data=urllib.parse.urlencode(fields).encode(), method="POST")
    with browser(oauth).open(allow, timeout=10) as response:
        query = json.load(response)
    assert query["state"] == "s-1"
    tokens = exchange_code(provider, *client, query["code"], callback.url, verifier)
    assert oauth.username_for(tokens.access_token) == "ann@example.test"


def test_wrong_verifier_is_refused_and_the_code_is_good_once(oauth, provider, client, callback):
    query, _state, verifier = consent(oauth, provider, client, callback, "bob@example.test")
    with pytest.raises(GrantRevoked, match="Connect the account again") as caught:
        exchange_code(provider, *client, query["code"], callback.url, new_pkce()[0])
    assert not caught.value.counts_as_connection_failure
    # The code was spent by the failed attempt: the right verifier comes too late.
    with pytest.raises(GrantRevoked):
        exchange_code(provider, *client, query["code"], callback.url, verifier)


def test_code_is_refused_for_another_redirect_uri(oauth, provider, client, callback):
    query, _state, verifier = consent(oauth, provider, client, callback, "bob@example.test")
    with pytest.raises(GrantRevoked, match="redirect_uri"):
        exchange_code(provider, *client, query["code"], callback.url + "/elsewhere", verifier)


def test_state_comes_back_unchanged_and_a_request_without_pkce_is_refused(oauth, client, callback):
    # The caller compares ``state`` with the one bound to the session; the server must echo it.
    query, state, _verifier = consent(oauth, loopback_gmail(oauth), client, callback, "cy@example.test")
    assert query["state"] == state and query["state"] != new_state()
    url = authorization_url(
        loopback_gmail(oauth), client[0], callback.url, "s-2", "", login_hint="cy@example.test"
    )
    with browser(oauth).open(url, timeout=10) as response:
        query = json.load(response)
    assert query == {
        "error": "invalid_request",
        "error_description": "PKCE with S256 is required.",
        "state": "s-2",
    }


def test_unknown_client_gets_no_redirect(oauth, callback):
    url = authorization_url(loopback_gmail(oauth), "nobody", callback.url, "s", new_pkce()[1])
    with pytest.raises(urllib.error.HTTPError) as caught:
        browser(oauth).open(url, timeout=10)
    assert caught.value.code == 400


def test_a_client_secret_the_provider_refuses_is_client_refused(oauth, provider, client, callback):
    query, _state, verifier = consent(oauth, provider, client, callback, "dee@example.test")
    with pytest.raises(ClientRefused, match="invalid_client") as caught:
        exchange_code(provider, client[0], "not-the-secret", query["code"], callback.url, verifier)
    assert not isinstance(caught.value, AuthenticationFailed), "not the login's fault"
    assert caught.value.counts_as_connection_failure

    tokens = sign_in(oauth, provider, client, callback, "dee@example.test")
    oauth.clients[client[0]] = "rotated-at-the-provider"  # the secret changed there, not here
    try:
        with pytest.raises(ClientRefused, match="client id or secret"):
            refresh(provider, *client, tokens)
    finally:
        oauth.clients[client[0]] = client[1]
    assert refresh(provider, *client, tokens).access_token


# -- the identity signed in as -----------------------------------------------------------------


def test_the_identity_is_who_signed_in_not_who_was_hinted(oauth, provider, client, callback):
    oauth.sign_in("intruder@example.test", over_hint=True)  # another account picked at the provider
    tokens = sign_in(oauth, provider, client, callback, "gus@example.test")
    assert tokens.identity == "intruder@example.test"
    assert refresh(provider, *client, tokens).identity == "intruder@example.test"


def test_google_asks_openid_email_and_reads_a_verified_email_only():
    assert {"openid", "email"} <= set(GMAIL.scopes)
    claims = {"aud": "id-1", "email": "Hal@Example.test", "email_verified": True}
    assert _identity(GMAIL, claims, "id-1") == "Hal@Example.test"
    assert _identity(GMAIL, {**claims, "email_verified": False}, "id-1") is None
    assert _identity(GMAIL, claims, "another-client") is None, "an ID token meant for another client"
    assert _identity(GMAIL, {"aud": "id-1"}, "id-1") is None
    assert _identity(MICROSOFT_365, {"aud": ["id-1"], "preferred_username": "ann@c.example"}, "id-1") == (
        "ann@c.example"
    )


# -- revocation --------------------------------------------------------------------------------


def test_google_revokes_the_whole_grant_and_a_second_revocation_is_harmless(
    oauth, client, callback, oauth_dovecot
):
    provider = loopback_gmail(oauth)
    user = oauth_dovecot.add_user()
    tokens = sign_in(oauth, provider, client, callback, user.login)
    assert oauth.live_grants(user.login) == 1
    assert revoke(provider, tokens.refresh_token)
    assert oauth.live_grants(user.login) == 0
    with pytest.raises(GrantRevoked):
        refresh(provider, *client, tokens)
    with pytest.raises(AuthenticationFailed):  # its access tokens went with it
        with connect(xoauth2(oauth_dovecot, user.login, tokens)):
            pass
    assert revoke(provider, tokens.refresh_token), "a token the provider no longer knows is revoked"


def test_microsoft_offers_no_revocation_and_none_is_attempted(oauth, client, callback):
    provider = loopback_microsoft(oauth)
    tokens = sign_in(oauth, provider, client, callback, "ida@example.test")
    before = oauth.revocation_requests
    assert MICROSOFT_365.revocation_endpoint is None
    assert revoke(provider, tokens.refresh_token) is False
    assert oauth.revocation_requests == before
    assert oauth.live_grants("ida@example.test") == 1


def test_an_unreachable_revocation_service_is_server_unreachable(oauth):
    offline = configure(loopback_gmail(oauth), revocation_endpoint=f"https://127.0.0.1:{free_port()}/revoke")
    with pytest.raises(ServerUnreachable, match="Could not reach"):
        revoke(offline, "rt-whatever")


# -- IMAP and SMTP with the tokens -------------------------------------------------------------


def test_imap_sync_with_the_access_token(oauth, provider, client, callback, oauth_dovecot):
    user = oauth_dovecot.add_user()
    oauth_dovecot.deliver(user, make_mail(1, to=user.email))
    tokens = sign_in(oauth, provider, client, callback, user.login)
    with connect(xoauth2(oauth_dovecot, user.login, tokens, provider)) as mailbox:
        assert mailbox.condstore == (provider.kind == ProviderKind.GOOGLE)  # Microsoft 365: never
        batches = list(sync_folder(mailbox, "INBOX", None, None))
    assert [record.subject for batch in batches for record in batch.messages] == ["Devis n°1"]


def test_dovecot_takes_the_token_through_oauthbearer_too(oauth, client, callback, oauth_dovecot):
    user = oauth_dovecot.add_user()
    tokens = sign_in(oauth, loopback_gmail(oauth), client, callback, user.login)
    imap = IMAPClient(oauth_dovecot.host, port=oauth_dovecot.port, ssl=False)
    try:
        imap.oauthbearer_login(user.login, tokens.access_token)
        assert imap.select_folder("INBOX", readonly=True)[b"EXISTS"] == 0
    finally:
        imap.logout()


def test_smtp_send_with_xoauth2(oauth, provider, client, callback, oauth_dovecot, oauth_smtp):  # noqa: PLR0913 - fixtures
    user = oauth_dovecot.add_user()
    tokens = sign_in(oauth, provider, client, callback, user.login)
    settings = SmtpSettings(
        oauth_smtp.host, oauth_smtp.port, Security.NONE, user.login, oauth_token=tokens.access_token
    )
    message = make_mail(2, sender=user.email, to="client@client.example")
    send_message(settings, user.email, ["client@client.example"], message)
    received = oauth_smtp.received[-1]
    assert received.login == user.login and received.rcpt_tos == ("client@client.example",)

    oauth.revoke(tokens.access_token)
    with pytest.raises(AuthenticationFailed, match="535"):
        send_message(settings, user.email, ["client@client.example"], message)
    someone_else = dataclasses.replace(
        settings, login="other@example.test", oauth_token=oauth.issue_token(user.login)
    )
    with pytest.raises(AuthenticationFailed):
        send_message(someone_else, user.email, ["client@client.example"], message)


# -- refresh, rotation, expiry, revocation -----------------------------------------------------


def test_refresh_only_shortly_before_expiry(oauth, provider, client, callback):
    tokens = sign_in(oauth, provider, client, callback, "eve@example.test")
    assert not needs_refresh(tokens)  # an hour left: a poll now must not refresh
    assert not needs_refresh(tokens, now=tokens.expires_at - 6 * MINUTE)
    assert needs_refresh(tokens, now=tokens.expires_at - 4 * MINUTE)
    assert needs_refresh(tokens, now=tokens.expires_at + MINUTE)
    assert needs_refresh(dataclasses.replace(tokens, access_token=""))
    assert not needs_refresh(dataclasses.replace(tokens, expires_at=None))

    oauth.set_token_lifetime(120)
    before = oauth.token_requests["refresh_token"]
    short = refresh(provider, *client, tokens)
    assert oauth.token_requests["refresh_token"] == before + 1
    assert needs_refresh(short)  # two minutes left, within the five-minute margin
    assert short.access_token != tokens.access_token
    assert oauth.username_for(short.access_token) == "eve@example.test"
    assert short.refresh_token == tokens.refresh_token  # not rotated: the same one comes back


def test_rotated_refresh_token_is_returned_and_the_old_one_is_dead(oauth, provider, client, callback):
    tokens = sign_in(oauth, provider, client, callback, "fay@example.test")
    oauth.rotate_refresh_tokens = True
    renewed = refresh(provider, *client, tokens)
    assert renewed.refresh_token and renewed.refresh_token != tokens.refresh_token
    with pytest.raises(GrantRevoked):
        refresh(provider, *client, tokens)  # what a caller that forgot to save would send
    again = refresh(provider, *client, renewed)
    assert oauth.username_for(again.access_token) == "fay@example.test"


def test_revoked_grant_is_grant_revoked_not_a_connection_failure(
    oauth, provider, client, callback, oauth_dovecot
):
    user = oauth_dovecot.add_user()
    tokens = sign_in(oauth, provider, client, callback, user.login)
    oauth.revoke_grant(tokens.refresh_token)
    with pytest.raises(GrantRevoked, match="invalid_grant") as caught:
        refresh(provider, *client, tokens)
    assert not caught.value.counts_as_connection_failure
    with pytest.raises(AuthenticationFailed):  # its access tokens went with it
        with connect(xoauth2(oauth_dovecot, user.login, tokens)):
            pass


def test_expired_access_token_is_refused_by_dovecot_and_a_refresh_answers_it(
    oauth, provider, client, callback, oauth_dovecot
):
    user = oauth_dovecot.add_user()
    tokens = sign_in(oauth, provider, client, callback, user.login)
    oauth.expire(tokens.access_token)
    with pytest.raises(AuthenticationFailed) as caught:
        with connect(xoauth2(oauth_dovecot, user.login, tokens)):
            pass
    assert caught.value.counts_as_connection_failure
    tokens = refresh(provider, *client, tokens)
    with connect(xoauth2(oauth_dovecot, user.login, tokens)) as mailbox:
        assert mailbox.select("INBOX", readonly=True)[b"EXISTS"] == 0


def test_unreachable_sign_in_service_is_server_unreachable(provider, client, oauth):
    closed = f"https://127.0.0.1:{free_port()}"
    if provider.kind == ProviderKind.MICROSOFT:
        offline = configure(provider, authority=f"{closed}/contoso")
    else:
        offline = configure(provider, token_endpoint=f"{closed}/token")
    tokens = TokenSet("at", "rt", None, "")
    with pytest.raises(ServerUnreachable, match="Could not reach") as caught:
        refresh(offline, *client, tokens)
    assert caught.value.counts_as_connection_failure


def test_refresh_without_a_refresh_token_asks_to_connect_again(provider, client):
    with pytest.raises(GrantRevoked, match="connect the account again"):
        refresh(provider, *client, TokenSet("at", None, None, ""))


# -- presets -----------------------------------------------------------------------------------


def test_provider_presets():
    assert (GMAIL.imap_host, GMAIL.imap_port, GMAIL.imap_security) == ("imap.gmail.com", 993, Security.SSL)
    assert (GMAIL.smtp_host, GMAIL.smtp_port, GMAIL.smtp_security) == ("smtp.gmail.com", 465, Security.SSL)
    assert GMAIL.scopes == ("https://mail.google.com/", "openid", "email") and GMAIL.use_condstore
    assert GMAIL.revocation_endpoint == "https://oauth2.googleapis.com/revoke"
    assert (MICROSOFT_365.imap_host, MICROSOFT_365.imap_port) == ("outlook.office365.com", 993)
    assert (MICROSOFT_365.smtp_host, MICROSOFT_365.smtp_port) == ("smtp.office365.com", 587)
    assert MICROSOFT_365.smtp_security == Security.STARTTLS and not MICROSOFT_365.use_condstore
    assert "offline_access" in MICROSOFT_365.scopes
    for preset in (GMAIL, MICROSOFT_365):
        assert preset.files_sent_mail and provider_files_sent_mail(preset.imap_host)

    tenant = configure(MICROSOFT_365, tenant="contoso.onmicrosoft.com")
    assert (
        tenant.token_endpoint == "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token"
    )
    assert tenant.authority == "https://login.microsoftonline.com/contoso.onmicrosoft.com"

    settings = imap_settings(MICROSOFT_365, "ann@contoso.example", "token")
    assert (settings.host, settings.security, settings.use_condstore) == (
        "outlook.office365.com",
        Security.SSL,
        False,
    )
    smtp = smtp_settings(GMAIL, "ann@gmail.example", "token")
    assert (smtp.host, smtp.port, smtp.oauth_token) == ("smtp.gmail.com", 465, "token")


def test_authorization_url_asks_for_offline_access_with_pkce():
    verifier, challenge = new_pkce()
    assert 43 <= len(verifier) <= 128 and challenge != verifier
    url = authorization_url(
        GMAIL, "id-1", "https://crm.example/cb", "st", challenge, login_hint="a@b.example"
    )
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))
    assert url.startswith("https://accounts.google.com/o/oauth2/v2/auth?")
    assert query == {
        "response_type": "code",
        "client_id": "id-1",
        "redirect_uri": "https://crm.example/cb",
        "scope": "https://mail.google.com/ openid email",
        "state": "st",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        "access_type": "offline",
        "prompt": "consent",
        "login_hint": "a@b.example",
    }
