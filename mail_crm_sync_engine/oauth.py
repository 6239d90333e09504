"""OAuth 2 for Gmail and Microsoft 365: provider presets, the consent URL, tokens and their refresh.

The caller (the addon) keeps the state between steps; nothing here is stored or global::

    provider = configure(MICROSOFT_365, tenant=settings_tenant)   # or GMAIL; endpoints overridable
    verifier, challenge = new_pkce()
    state = new_state()                                            # bind it to the user's session
    redirect(authorization_url(provider, client_id, redirect_uri, state, challenge))
    # ... the provider redirects back with ?code=...&state=...; compare state, then:
    tokens = exchange_code(provider, client_id, client_secret, code, redirect_uri, verifier)
    save(tokens)
    # before each sync or send:
    if needs_refresh(tokens):
        tokens = refresh(provider, client_id, client_secret, tokens)
        save(tokens)                                               # the refresh token may be new
    with connect(imap_settings(provider, login, tokens.access_token)) as mailbox: ...
    # the server refused a token that looked valid: ``refresh`` once, log in once more.
    # the account is deleted: revoke(provider, tokens.refresh_token)   # where the provider can

google-auth does Google's token work and msal Microsoft's (its token cache travels in
``TokenSet.raw_cache``). A grant the user revoked, or a code that is wrong or used, raises
``GrantRevoked``: only connecting again helps. A client id or secret the provider refuses
(``invalid_client``) raises ``ClientRefused``: an administrator must fix the application's settings.
Network failures raise ``ServerUnreachable``, ``Timeout`` or ``TlsFailure``; other refusals
``AuthenticationFailed``.

``TokenSet.identity`` is the mailbox the user signed in as (Google's ``email`` claim, Microsoft's
``preferred_username``), read from the ID token the token endpoint gave with the tokens: a caller
compares it with the account it meant to connect.
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import datetime
import enum
import functools
import hashlib
import json
import logging
import secrets
import urllib.parse
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from .errors import (
    AuthenticationFailed,
    ClientRefused,
    GrantRevoked,
    MailSyncError,
    ServerRefused,
    ServerUnreachable,
    Timeout,
    TlsFailure,
)
from .send import SmtpSettings
from .types import ConnectionSettings, Security

_logger = logging.getLogger(__name__)

# requests, google-auth and msal are imported where used (noqa: PLC0415 below): together they
# take about 130 ms to import, which the CLI and password-only accounts have no need to pay.

DEFAULT_REFRESH_MARGIN = datetime.timedelta(seconds=300)
# Scopes msal adds to every request itself and refuses to be given.
_MSAL_RESERVED_SCOPES = frozenset({"openid", "profile", "offline_access"})
# Token endpoint errors that refuse the application itself (RFC 6749 5.2; Google says
# ``deleted_client`` for a client removed from its project).
_CLIENT_ERRORS = frozenset({"invalid_client", "unauthorized_client", "deleted_client"})


class ProviderKind(enum.StrEnum):
    GOOGLE = "google"
    MICROSOFT = "microsoft"


@dataclass(frozen=True, slots=True)
class OAuthProvider:
    """Where a provider's mail and sign-in live, and how the engine treats its mailboxes.

    ``authority`` is msal's (Microsoft only); its endpoints derive from it. ``ca_file`` is a CA
    bundle for the sign-in endpoints (None: the system's); ``timeout`` bounds each HTTP call.
    ``revocation_endpoint`` (RFC 7009) is None where the provider offers an application no way to
    revoke one grant (Microsoft).
    """

    kind: ProviderKind
    label: str
    imap_host: str
    imap_port: int
    imap_security: Security
    smtp_host: str
    smtp_port: int
    smtp_security: Security
    scopes: tuple[str, ...]
    authorization_endpoint: str
    token_endpoint: str
    authority: str | None = None
    use_condstore: bool = True
    files_sent_mail: bool = True
    # Sent to the authorization endpoint besides the standard parameters.
    authorization_params: tuple[tuple[str, str], ...] = ()
    ca_file: str | None = None
    timeout: float = 30.0
    revocation_endpoint: str | None = None


GMAIL = OAuthProvider(
    kind=ProviderKind.GOOGLE,
    label="Gmail",
    imap_host="imap.gmail.com",
    imap_port=993,
    imap_security=Security.SSL,
    smtp_host="smtp.gmail.com",
    smtp_port=465,
    smtp_security=Security.SSL,
    # openid and email: the token response then carries an ID token naming the mailbox signed in.
    scopes=("https://mail.google.com/", "openid", "email"),
    authorization_endpoint="https://accounts.google.com/o/oauth2/v2/auth",
    token_endpoint="https://oauth2.googleapis.com/token",
    revocation_endpoint="https://oauth2.googleapis.com/revoke",
    # A refresh token is only given with offline access, and again only when consent is asked.
    authorization_params=(("access_type", "offline"), ("prompt", "consent")),
)

_MICROSOFT_LOGIN = "https://login.microsoftonline.com"

MICROSOFT_365 = OAuthProvider(
    kind=ProviderKind.MICROSOFT,
    label="Microsoft 365",
    imap_host="outlook.office365.com",
    imap_port=993,
    imap_security=Security.SSL,
    smtp_host="smtp.office365.com",
    smtp_port=587,
    smtp_security=Security.STARTTLS,
    scopes=(
        "https://outlook.office.com/IMAP.AccessAsUser.All",
        "https://outlook.office.com/SMTP.Send",
        "offline_access",
    ),
    authority=f"{_MICROSOFT_LOGIN}/common",
    authorization_endpoint=f"{_MICROSOFT_LOGIN}/common/oauth2/v2.0/authorize",
    token_endpoint=f"{_MICROSOFT_LOGIN}/common/oauth2/v2.0/token",
    # Microsoft 365 advertises no CONDSTORE; never rely on it there.
    use_condstore=False,
    # No revocation_endpoint: Microsoft identity platform lets an application revoke no single
    # grant (only the user, at myaccount.microsoft.com, or an administrator revoking all of a
    # user's sessions). Its refresh tokens lapse after 90 days unused.
    authorization_params=(("response_mode", "query"),),
)

PROVIDERS: dict[ProviderKind, OAuthProvider] = {
    ProviderKind.GOOGLE: GMAIL,
    ProviderKind.MICROSOFT: MICROSOFT_365,
}


def configure(  # noqa: PLR0913 - keyword-only settings a caller fills from its configuration
    provider: OAuthProvider,
    *,
    tenant: str | None = None,
    authority: str | None = None,
    authorization_endpoint: str | None = None,
    token_endpoint: str | None = None,
    ca_file: str | None = None,
    timeout: float | None = None,
    revocation_endpoint: str | None = None,
) -> OAuthProvider:
    """A preset with the sign-in addresses of this installation: a Microsoft ``tenant`` (id or
    domain) or a whole ``authority`` (``https://host/tenant``, from which Microsoft's endpoints
    follow), or Google's endpoints one by one. Values left None keep the preset's."""
    changes: dict[str, Any] = {}
    if provider.kind == ProviderKind.MICROSOFT and (tenant or authority):
        base = (authority or f"{_MICROSOFT_LOGIN}/{tenant}").rstrip("/")
        changes.update(
            authority=base,
            authorization_endpoint=f"{base}/oauth2/v2.0/authorize",
            token_endpoint=f"{base}/oauth2/v2.0/token",
        )
    if authorization_endpoint:
        changes["authorization_endpoint"] = authorization_endpoint
    if token_endpoint:
        changes["token_endpoint"] = token_endpoint
    if revocation_endpoint:
        changes["revocation_endpoint"] = revocation_endpoint
    if ca_file:
        changes["ca_file"] = ca_file
    if timeout:
        changes["timeout"] = timeout
    return dataclasses.replace(provider, **changes)


@dataclass(frozen=True, slots=True)
class TokenSet:
    """What a sign-in or a refresh gives; save all of it after each call.

    ``expires_at`` is when the access token lapses (UTC, aware; None if the provider did not
    say). ``raw_cache`` is msal's serialized token cache for this account (None for Google).
    ``identity`` is the mailbox signed in as, when the provider said (an ID token came with the
    tokens): Google's verified ``email``, Microsoft's ``preferred_username``.
    """

    access_token: str = field(repr=False)
    refresh_token: str | None = field(repr=False)
    expires_at: datetime.datetime | None
    scope: str
    raw_cache: str | None = field(default=None, repr=False)
    identity: str | None = None


def new_state() -> str:
    """An unguessable ``state`` for one authorization request."""
    return secrets.token_urlsafe(24)


def new_pkce() -> tuple[str, str]:
    """A PKCE pair (RFC 7636): (code_verifier, S256 code_challenge). Keep the verifier on the
    server side until the code comes back; send only the challenge."""
    verifier = secrets.token_urlsafe(48)  # 64 characters, within the 43 to 128 allowed
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode("ascii")).digest())
    return verifier, challenge.rstrip(b"=").decode("ascii")


def authorization_url(  # noqa: PLR0913 - the parameters of RFC 6749 4.1.1 with PKCE
    provider: OAuthProvider,
    client_id: str,
    redirect_uri: str,
    state: str,
    code_challenge: str,
    login_hint: str | None = None,
) -> str:
    """The address to send the user's browser to for consent (authorization code, PKCE S256)."""
    params = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "scope": " ".join(provider.scopes),
        "state": state,
        "code_challenge": code_challenge,
        "code_challenge_method": "S256",
        **dict(provider.authorization_params),
    }
    if login_hint:
        params["login_hint"] = login_hint
    separator = "&" if "?" in provider.authorization_endpoint else "?"
    return provider.authorization_endpoint + separator + urllib.parse.urlencode(params)


def exchange_code(  # noqa: PLR0913 - the parameters of RFC 6749 4.1.3 with PKCE
    provider: OAuthProvider,
    client_id: str,
    client_secret: str,
    code: str,
    redirect_uri: str,
    code_verifier: str,
) -> TokenSet:
    """Trade the code the provider sent back for tokens.

    Raises GrantRevoked (code wrong, used or expired; verifier wrong), ClientRefused (client id
    or secret refused), AuthenticationFailed, ServerUnreachable, Timeout or TlsFailure.
    """
    with _errors(provider):
        if provider.kind == ProviderKind.MICROSOFT:
            return _microsoft_exchange(provider, client_id, client_secret, code, redirect_uri, code_verifier)
        return _google_exchange(provider, client_id, client_secret, code, redirect_uri, code_verifier)


def refresh(provider: OAuthProvider, client_id: str, client_secret: str, tokens: TokenSet) -> TokenSet:
    """A new access token from the refresh token (or msal's cache) in ``tokens``.

    The result always carries the refresh token to keep: the new one when the provider rotated
    it, else the one given. Raises GrantRevoked when the grant is revoked or expired,
    ClientRefused, AuthenticationFailed, ServerUnreachable, Timeout or TlsFailure.
    """
    if not tokens.refresh_token and not tokens.raw_cache:
        raise GrantRevoked(f"There is no {provider.label} sign-in to renew: connect the account again.")
    with _errors(provider):
        if provider.kind == ProviderKind.MICROSOFT:
            return _microsoft_refresh(provider, client_id, client_secret, tokens)
        return _google_refresh(provider, client_id, client_secret, tokens)


def revoke(provider: OAuthProvider, token: str) -> bool:
    """Revoke a grant at the provider (RFC 7009), given its refresh token (or an access token).

    True when the provider holds the token no more (a token it no longer knows counts as done);
    False when the provider offers no revocation (Microsoft: see MICROSOFT_365). Raises
    ServerUnreachable, Timeout, TlsFailure or ServerRefused.
    """
    if not provider.revocation_endpoint:
        return False
    with _errors(provider):
        response = _http_session(provider).post(
            provider.revocation_endpoint,
            data={"token": token},
            headers={"Accept": "application/json"},
        )
    if response.status_code == 200:
        return True
    try:
        data = response.json()
    except ValueError:
        data = {}
    if not isinstance(data, dict):
        data = {}
    if response.status_code == 400 and data.get("error") == "invalid_token":
        return True  # Google's answer for a token already revoked or expired
    if response.status_code >= 500:
        raise ServerUnreachable(
            f"The {provider.label} revocation service failed for now (HTTP {response.status_code})."
        )
    detail = data.get("error_description") or data.get("error") or f"HTTP {response.status_code}"
    raise ServerRefused(f"{provider.label} did not revoke the sign-in: {detail}")


def needs_refresh(
    tokens: TokenSet,
    now: datetime.datetime | None = None,
    margin: datetime.timedelta = DEFAULT_REFRESH_MARGIN,
) -> bool:
    """True when the access token is missing or lapses within ``margin``: refresh then, not on
    every poll (providers lock out clients that refresh too often). An unknown expiry is left
    to the server: refresh when it refuses the token."""
    if not tokens.access_token:
        return True
    if tokens.expires_at is None:
        return False
    now = now or datetime.datetime.now(datetime.UTC)
    return tokens.expires_at - now <= margin


def imap_settings(
    provider: OAuthProvider, login: str, access_token: str, **options: Any
) -> ConnectionSettings:
    """How to log in to the provider's IMAP server with XOAUTH2; ``options`` as ConnectionSettings'."""
    options.setdefault("use_condstore", provider.use_condstore)
    return ConnectionSettings(
        provider.imap_host,
        provider.imap_port,
        provider.imap_security,
        login,
        oauth_token=access_token,
        **options,
    )


def smtp_settings(provider: OAuthProvider, login: str, access_token: str, **options: Any) -> SmtpSettings:
    """How to submit mail to the provider's SMTP server with XOAUTH2."""
    return SmtpSettings(
        provider.smtp_host,
        provider.smtp_port,
        provider.smtp_security,
        login,
        oauth_token=access_token,
        **options,
    )


# -- Google (google-auth) ----------------------------------------------------------------------


def _http_session(provider: OAuthProvider):
    """A requests session for the sign-in endpoints, with the provider's timeout and CA bundle.

    Given per request: requests lets REQUESTS_CA_BUNDLE override a session's ``verify``.
    """
    import requests  # noqa: PLC0415

    class Session(requests.Session):
        def request(self, method, url, *args, **kwargs):
            kwargs.setdefault("timeout", provider.timeout)
            if provider.ca_file:
                kwargs.setdefault("verify", provider.ca_file)
            return super().request(method, url, *args, **kwargs)

    return Session()


def _google_request(provider: OAuthProvider):
    from google.auth.transport.requests import Request  # noqa: PLC0415

    return functools.partial(Request(_http_session(provider)), timeout=provider.timeout)


def _google_exchange(  # noqa: PLR0913 - as exchange_code
    provider: OAuthProvider, client_id: str, client_secret: str, code: str, redirect_uri: str, verifier: str
) -> TokenSet:
    # google-auth has no code exchange of its own (google-auth-oauthlib has, over requests-oauthlib,
    # which Odoo does not ship): post the standard form through its transport.
    body = urllib.parse.urlencode(
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "client_id": client_id,
            "client_secret": client_secret,
            "code_verifier": verifier,
        }
    ).encode()
    response = _google_request(provider)(
        url=provider.token_endpoint,
        method="POST",
        body=body,
        headers={"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"},
    )
    try:
        data = json.loads(response.data)
    except ValueError:
        data = {}
    if response.status != 200 or "access_token" not in data:
        raise _refusal(provider, data, response.status)
    return TokenSet(
        access_token=data["access_token"],
        refresh_token=data.get("refresh_token"),
        expires_at=_expiry(data.get("expires_in")),
        scope=data.get("scope") or " ".join(provider.scopes),
        identity=_identity(provider, _id_token_claims(data.get("id_token")), client_id),
    )


def _google_refresh(
    provider: OAuthProvider, client_id: str, client_secret: str, tokens: TokenSet
) -> TokenSet:
    from google.auth import exceptions  # noqa: PLC0415
    from google.oauth2.credentials import Credentials  # noqa: PLC0415

    credentials = Credentials(
        token=None,
        refresh_token=tokens.refresh_token,
        token_uri=provider.token_endpoint,
        client_id=client_id,
        client_secret=client_secret,
    )
    try:
        credentials.refresh(_google_request(provider))
    except exceptions.RefreshError as error:
        data = error.args[1] if len(error.args) > 1 and isinstance(error.args[1], dict) else {}
        raise _refusal(
            provider, data or {"error_description": str(error.args[0] if error.args else error)}
        ) from error
    expiry = credentials.expiry  # naive UTC, google-auth's convention
    return TokenSet(
        access_token=credentials.token,
        refresh_token=credentials.refresh_token or tokens.refresh_token,
        expires_at=expiry.replace(tzinfo=datetime.UTC) if expiry else None,
        scope=" ".join(credentials.granted_scopes or ()) or tokens.scope,
        identity=_identity(provider, _id_token_claims(credentials.id_token), client_id) or tokens.identity,
    )


# -- Microsoft (msal) --------------------------------------------------------------------------


def _msal_scopes(provider: OAuthProvider) -> list[str]:
    return [scope for scope in provider.scopes if scope not in _MSAL_RESERVED_SCOPES]


def _msal_app(provider: OAuthProvider, client_id: str, client_secret: str, raw_cache: str | None):
    import msal  # noqa: PLC0415

    cache = msal.SerializableTokenCache()
    if raw_cache:
        cache.deserialize(raw_cache)
    app = msal.ConfidentialClientApplication(
        client_id,
        client_credential=client_secret,
        authority=provider.authority,
        # The authority is configured, not discovered: no call to Microsoft's instance list.
        instance_discovery=False,
        token_cache=cache,
        http_client=_http_session(provider),
    )
    return app, cache


def _microsoft_exchange(  # noqa: PLR0913 - as exchange_code
    provider: OAuthProvider, client_id: str, client_secret: str, code: str, redirect_uri: str, verifier: str
) -> TokenSet:
    app, cache = _msal_app(provider, client_id, client_secret, None)
    with warnings.catch_warnings():
        # msal prefers its own flow object (initiate_auth_code_flow), which would own the state and
        # the PKCE pair; here the caller owns them, as the addon keeps them in the user's session.
        warnings.simplefilter("ignore", DeprecationWarning)
        result = app.acquire_token_by_authorization_code(
            code, scopes=_msal_scopes(provider), redirect_uri=redirect_uri, data={"code_verifier": verifier}
        )
    return _msal_token_set(provider, result, cache, None, client_id)


def _microsoft_refresh(
    provider: OAuthProvider, client_id: str, client_secret: str, tokens: TokenSet
) -> TokenSet:
    app, cache = _msal_app(provider, client_id, client_secret, tokens.raw_cache)
    scopes = _msal_scopes(provider)
    result = None
    accounts = app.get_accounts()
    if accounts:
        # force_refresh: the caller decided the token is due (needs_refresh, or a refused login).
        result = app.acquire_token_silent_with_error(scopes, accounts[0], force_refresh=True)
    if result is None and tokens.refresh_token:  # no cache (tokens saved before it), or no token in it
        result = app.acquire_token_by_refresh_token(tokens.refresh_token, scopes)
    if result is None:
        raise GrantRevoked(f"There is no {provider.label} sign-in to renew: connect the account again.")
    return _msal_token_set(provider, result, cache, tokens.refresh_token, client_id, tokens.identity)


def _msal_token_set(  # noqa: PLR0913 - what one msal answer is read with
    provider: OAuthProvider,
    result: dict,
    cache,
    previous_refresh_token: str | None,
    client_id: str,
    previous_identity: str | None = None,
) -> TokenSet:
    if "access_token" not in result:
        raise _refusal(provider, result)
    # msal decodes the ID token of the answer into id_token_claims (without checking a signature).
    claims = result.get("id_token_claims") or _id_token_claims(result.get("id_token"))
    return TokenSet(
        access_token=result["access_token"],
        refresh_token=result.get("refresh_token") or _cached_refresh_token(cache) or previous_refresh_token,
        expires_at=_expiry(result.get("expires_in")),
        scope=result.get("scope") or " ".join(provider.scopes),
        raw_cache=cache.serialize(),
        identity=_identity(provider, claims, client_id) or previous_identity,
    )


def _cached_refresh_token(cache) -> str | None:
    """The refresh token msal keeps for the account: the cache holds one account."""
    import msal  # noqa: PLC0415

    for item in cache.search(msal.TokenCache.CredentialType.REFRESH_TOKEN):
        return item.get("secret")
    return None


# -- identity ----------------------------------------------------------------------------------


def _id_token_claims(id_token: str | None) -> dict:
    """The claims of an ID token, its signature not checked.

    Only for an ID token received straight from the token endpoint over TLS: OpenID Connect Core
    1.0, 3.1.3.7 (6.) lets a client validate the issuer by the TLS server validation instead of
    the token's signature in that case. (Checking it would also need the provider's signing keys,
    which the loopback server of the tests and a sovereign cloud do not publish alike.)
    """
    if not id_token:
        return {}
    try:
        payload = id_token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError):  # binascii.Error and JSONDecodeError are ValueErrors
        return {}
    return claims if isinstance(claims, dict) else {}


def _identity(provider: OAuthProvider, claims: dict, client_id: str) -> str | None:
    """Who signed in, from ID token claims meant for this client (OpenID Connect Core 3.1.3.7 (3.)):
    Google's ``email`` unless it says it is not verified, Microsoft's ``preferred_username``."""
    audience = claims.get("aud")
    if client_id not in (audience if isinstance(audience, list) else [audience]):
        return None
    if provider.kind == ProviderKind.GOOGLE:
        if claims.get("email_verified") in (False, "false"):
            return None
        identity = claims.get("email")
    else:
        identity = claims.get("preferred_username") or claims.get("email")
    return identity.strip() if isinstance(identity, str) and identity.strip() else None


# -- errors ------------------------------------------------------------------------------------


def _expiry(expires_in: Any) -> datetime.datetime | None:
    try:
        seconds = int(expires_in)
    except (TypeError, ValueError):
        return None
    return datetime.datetime.now(datetime.UTC) + datetime.timedelta(seconds=seconds)


def _refusal(provider: OAuthProvider, data: dict, status: int | None = None) -> MailSyncError:
    error = str(data.get("error") or "")
    description = " ".join(str(data.get("error_description") or "").split())
    detail = f"{error}: {description}" if error and description else error or description or f"HTTP {status}"
    if error in _CLIENT_ERRORS:
        return ClientRefused(f"{provider.label} refused this application's client id or secret ({detail}).")
    if error == "invalid_grant":
        return GrantRevoked(
            f"{provider.label} no longer accepts this account's sign-in ({detail}). "
            "Connect the account again."
        )
    if (status is not None and status >= 500) or error in ("temporarily_unavailable", "server_error"):
        return ServerUnreachable(f"The {provider.label} sign-in service failed for now ({detail}).")
    return AuthenticationFailed(f"{provider.label} refused the sign-in of this application ({detail}).")


@contextlib.contextmanager
def _errors(provider: OAuthProvider) -> Iterator[None]:
    """Map what requests, google-auth and msal raise on the network to the engine's errors."""
    try:
        yield
    except MailSyncError:
        raise
    except Exception as error:
        translated = _network_error(provider, error)
        if translated is None:
            raise
        raise translated from error


def _network_error(provider: OAuthProvider, error: BaseException) -> MailSyncError | None:
    import requests  # noqa: PLC0415
    from google.auth import exceptions as google_exceptions  # noqa: PLC0415

    where = urllib.parse.urlsplit(provider.token_endpoint).netloc
    chain: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and current not in chain:
        chain.append(current)
        current = current.__cause__ or current.__context__
    for cause in chain:
        if isinstance(cause, requests.exceptions.SSLError):
            return TlsFailure(
                f"The secure connection to the {provider.label} sign-in service {where} failed."
            )
        if isinstance(cause, requests.exceptions.Timeout | TimeoutError):
            return Timeout(f"The {provider.label} sign-in service {where} did not answer in time.")
        if isinstance(cause, requests.exceptions.ConnectionError | ConnectionError):
            return ServerUnreachable(f"Could not reach the {provider.label} sign-in service {where}.")
    if isinstance(error, google_exceptions.TransportError):
        return ServerUnreachable(f"Could not reach the {provider.label} sign-in service {where}: {error}")
    if isinstance(error, ValueError) and provider.kind == ProviderKind.MICROSOFT:
        # msal raises ValueError when the authority's OpenID configuration cannot be read.
        return AuthenticationFailed(
            f"The {provider.label} sign-in address {provider.authority} is not usable: {error}"
        )
    return None
