"""A small OAuth 2 authorization server on loopback, standing in for Google's and Microsoft's.

It issues, refreshes, expires and revokes tokens the way the real ones do, so google-auth and msal
talk to it through their documented settings (a token URI; an authority, ``verify`` and
``instance_discovery=False``), and Dovecot and the harness SMTP server ask it about bearer tokens.

Endpoints (served over HTTPS with a self-signed certificate, ``ca_file``; and over plain HTTP on
``introspection_url``'s port, because Dovecot's HTTP client is not told about that certificate):

- ``GET /authorize`` (Google shape ``/o/oauth2/v2/auth``, Microsoft shape
  ``/{tenant}/oauth2/v2.0/authorize``): authorization code with PKCE S256 and ``state``. The user
  signed in is ``login_hint`` if given, else the one set with ``sign_in`` (or that one whatever
  the hint says, after ``sign_in(..., over_hint=True)``: a user picking another account). Approves
  at once and redirects to ``redirect_uri`` with ``code`` and ``state``; with ``auto_approve =
  False`` it shows a consent page whose "Allow" button posts back to ``/authorize`` first.
- ``POST /token`` (Google shape) or ``/{tenant}/oauth2/v2.0/token`` (Microsoft shape, which adds
  ``id_token`` and ``client_info`` as msal expects): ``authorization_code`` with
  ``code_verifier``, and ``refresh_token``. Refresh tokens are rotated when ``rotate_refresh_tokens``.
  The Google shape adds an ``id_token`` with ``email`` and ``email_verified`` when the grant's scope
  has ``openid``. ID tokens are unsigned (``alg`` none): clients read them from the token endpoint.
- ``POST /revoke`` (Google's RFC 7009 endpoint): ``token=...`` revokes a refresh token's whole grant,
  or one access token; 200, or 400 ``invalid_token`` for a token it does not know, as Google does.
- ``GET /{tenant}/v2.0/.well-known/openid-configuration``: what msal reads from its authority.
- ``POST /introspect``: ``token=...`` answers ``{"active": true, "username": ...}`` for a live
  access token, ``{"active": false}`` otherwise (what Dovecot's oauth2 passdb asks); also
  ``{"active": false}`` for every token of a mailbox given to ``refuse_mailbox`` (IMAP turned off).
"""

from __future__ import annotations

import base64
import collections
import hashlib
import html
import json
import secrets
import shutil
import ssl
import tempfile
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from .tls import make_self_signed_certificate

# Access tokens made with ``issue_token`` outside any grant live this long.
_STANDALONE_LIFETIME = 24 * 3600
_CODE_LIFETIME = 600


@dataclass
class _Code:
    client_id: str
    redirect_uri: str
    code_challenge: str
    scope: str
    username: str
    nonce: str | None
    expires_at: float


@dataclass
class _Grant:
    """What the user consented to: one refresh token (rotated or not) and its access tokens."""

    client_id: str
    username: str
    scope: str
    refresh_token: str
    access_tokens: set[str] = field(default_factory=set)


@dataclass
class _AccessToken:
    username: str
    expires_at: float
    grant: _Grant | None


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def pkce_challenge(verifier: str) -> str:
    """The S256 code challenge of a PKCE verifier (RFC 7636 4.2)."""
    return _b64url(hashlib.sha256(verifier.encode("ascii")).digest())


class OAuthServer:
    """Start with ``start()`` (or as a context manager); register clients with ``add_client``.

    ``base_url`` is the HTTPS root; ``google_token_uri``, ``google_authorization_uri`` and
    ``microsoft_authority(tenant)`` are the addresses to give the providers' settings.
    """

    host = "127.0.0.1"

    def __init__(self) -> None:
        self.clients: dict[str, str] = {}
        self.user: str | None = None
        self.user_over_hint = False
        # Mailboxes whose tokens the mail servers refuse, live or not (IMAP turned off for them).
        self.refused_mailboxes: set[str] = set()
        # Requests to /revoke, whatever their outcome.
        self.revocation_requests = 0
        self.auto_approve = True
        self.rotate_refresh_tokens = False
        self.access_token_lifetime = 3600
        # Requests to the token endpoint, by grant type ("authorization_code", "refresh_token").
        self.token_requests: collections.Counter[str] = collections.Counter()
        self._codes: dict[str, _Code] = {}
        self._grants: dict[str, _Grant] = {}  # by current refresh token
        self._access: dict[str, _AccessToken] = {}
        self._lock = threading.Lock()
        self._tls_dir = Path(tempfile.mkdtemp(prefix="mcs-oauth-"))
        self.ca_file = str(self._tls_dir / "cert.pem")
        key_file = self._tls_dir / "key.pem"
        make_self_signed_certificate(Path(self.ca_file), key_file, "localhost")
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.ca_file, key_file)

        handler = _handler_for(self)
        self._http = ThreadingHTTPServer((self.host, 0), handler)
        self._https = ThreadingHTTPServer((self.host, 0), handler)
        self._https.socket = context.wrap_socket(self._https.socket, server_side=True)
        self.port = self._http.server_address[1]
        self.tls_port = self._https.server_address[1]
        self._threads = [
            threading.Thread(target=server.serve_forever, daemon=True) for server in (self._http, self._https)
        ]

    # -- addresses -------------------------------------------------------------------------

    @property
    def introspection_url(self) -> str:
        return f"http://{self.host}:{self.port}/introspect"

    @property
    def base_url(self) -> str:
        return f"https://{self.host}:{self.tls_port}"

    @property
    def google_authorization_uri(self) -> str:
        return f"{self.base_url}/o/oauth2/v2/auth"

    @property
    def google_token_uri(self) -> str:
        return f"{self.base_url}/token"

    @property
    def google_revocation_uri(self) -> str:
        return f"{self.base_url}/revoke"

    def microsoft_authority(self, tenant: str = "common") -> str:
        return f"{self.base_url}/{tenant}"

    # -- what tests control ----------------------------------------------------------------

    def add_client(self, client_id: str | None = None, client_secret: str | None = None) -> tuple[str, str]:
        """Register an application; returns (client_id, client_secret)."""
        client_id = client_id or f"client-{secrets.token_hex(4)}"
        client_secret = client_secret or secrets.token_urlsafe(16)
        self.clients[client_id] = client_secret
        return client_id, client_secret

    def sign_in(self, username: str | None, over_hint: bool = False) -> None:
        """The user who approves at ``/authorize`` when the request has no ``login_hint``; with
        ``over_hint``, whatever the hint says (the user chose another account at the provider)."""
        self.user = username
        self.user_over_hint = over_hint

    def refuse_mailbox(self, username: str, refused: bool = True) -> None:
        """Have the mail servers refuse every token of ``username``, fresh ones too, as Gmail and
        Microsoft 365 do for a mailbox whose IMAP is turned off."""
        if refused:
            self.refused_mailboxes.add(username)
        else:
            self.refused_mailboxes.discard(username)

    def live_grants(self, username: str) -> int:
        """How many grants of ``username`` are not revoked."""
        with self._lock:
            return sum(1 for grant in self._grants.values() if grant.username == username)

    def set_token_lifetime(self, seconds: int) -> None:
        """Lifetime (``expires_in``) of access tokens issued from now on."""
        self.access_token_lifetime = seconds

    def issue_token(self, username: str) -> str:
        """An access token for ``username`` outside any grant (for tests of the login alone)."""
        return self._new_access_token(username, None, _STANDALONE_LIFETIME)

    def expire(self, access_token: str) -> None:
        """Make an access token expired, as if its lifetime had passed."""
        with self._lock:
            if token := self._access.get(access_token):
                token.expires_at = time.time() - 1

    def revoke(self, token: str) -> None:
        """Revoke an access token alone, or, given a refresh token, its whole grant."""
        with self._lock:
            if grant := self._grants.pop(token, None):
                for access_token in grant.access_tokens:
                    self._access.pop(access_token, None)
            else:
                self._access.pop(token, None)

    revoke_grant = revoke

    def username_for(self, access_token: str) -> str | None:
        """Whose a live access token is; None for an unknown, expired or revoked one."""
        with self._lock:
            token = self._access.get(access_token)
            if token is None or token.expires_at <= time.time():
                return None
            return token.username

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> OAuthServer:
        for thread in self._threads:
            thread.start()
        return self

    def stop(self) -> None:
        for server in (self._http, self._https):
            server.shutdown()
            server.server_close()
        shutil.rmtree(self._tls_dir, ignore_errors=True)

    def __enter__(self) -> OAuthServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- the protocol ----------------------------------------------------------------------

    def _new_access_token(self, username: str, grant: _Grant | None, lifetime: int) -> str:
        token = f"at-{secrets.token_urlsafe(24)}"
        with self._lock:
            self._access[token] = _AccessToken(username, time.time() + lifetime, grant)
            if grant:
                grant.access_tokens.add(token)
        return token

    def authorize(self, params: dict[str, str]) -> tuple[int, dict[str, str], str]:
        """Check an authorization request; (status, headers, body) to answer with."""
        client_id, redirect_uri = params.get("client_id", ""), params.get("redirect_uri", "")
        # Never redirect to an address on behalf of an unknown client (RFC 6749 4.1.2.1).
        if client_id not in self.clients or not redirect_uri:
            return 400, {}, "Unknown client or missing redirect_uri."

        def redirect(**query: str) -> tuple[int, dict[str, str], str]:
            if "state" in params:
                query["state"] = params["state"]
            separator = "&" if "?" in redirect_uri else "?"
            return 302, {"Location": redirect_uri + separator + urllib.parse.urlencode(query)}, ""

        if params.get("response_type") != "code":
            return redirect(error="unsupported_response_type")
        if not params.get("code_challenge") or params.get("code_challenge_method") != "S256":
            return redirect(error="invalid_request", error_description="PKCE with S256 is required.")
        username = self.user if self.user_over_hint else params.get("login_hint") or self.user
        if not username:
            return redirect(error="access_denied", error_description="Nobody is signed in.")
        if params.get("approved") != "yes" and not self.auto_approve:
            return 200, {"Content-Type": "text/html; charset=utf-8"}, _consent_page(params, username)
        code = f"code-{secrets.token_urlsafe(16)}"
        with self._lock:
            self._codes[code] = _Code(
                client_id,
                redirect_uri,
                params["code_challenge"],
                params.get("scope", ""),
                username,
                params.get("nonce"),
                time.time() + _CODE_LIFETIME,
            )
        return redirect(code=code)

    def token(self, form: dict[str, str], tenant: str | None) -> tuple[int, dict]:  # noqa: PLR0911 - one answer per refusal of RFC 6749 5.2
        """Answer the token endpoint; ``tenant`` is set for the Microsoft shape."""
        grant_type = form.get("grant_type", "")
        with self._lock:
            self.token_requests[grant_type] += 1
        client_id = form.get("client_id", "")
        if client_id not in self.clients or self.clients[client_id] != form.get("client_secret"):
            return 401, {"error": "invalid_client", "error_description": "Unknown client or wrong secret."}
        if grant_type == "authorization_code":
            with self._lock:
                code = self._codes.pop(form.get("code", ""), None)  # a code is good once
            if code is None or code.expires_at < time.time() or code.client_id != client_id:
                return 400, {"error": "invalid_grant", "error_description": "Unknown or used code."}
            if code.redirect_uri != form.get("redirect_uri"):
                return 400, {"error": "invalid_grant", "error_description": "redirect_uri does not match."}
            if pkce_challenge(form.get("code_verifier", "")) != code.code_challenge:
                return 400, {"error": "invalid_grant", "error_description": "PKCE verification failed."}
            grant = _Grant(client_id, code.username, code.scope, f"rt-{secrets.token_urlsafe(24)}")
            with self._lock:
                self._grants[grant.refresh_token] = grant
            return 200, self._token_response(grant, tenant, code.nonce)
        if grant_type == "refresh_token":
            with self._lock:
                grant = self._grants.get(form.get("refresh_token", ""))
                if grant is None or grant.client_id != client_id:
                    return 400, {"error": "invalid_grant", "error_description": "Token has been revoked."}
                if self.rotate_refresh_tokens:
                    del self._grants[grant.refresh_token]
                    grant.refresh_token = f"rt-{secrets.token_urlsafe(24)}"
                    self._grants[grant.refresh_token] = grant
            return 200, self._token_response(grant, tenant, None)
        return 400, {"error": "unsupported_grant_type"}

    def _token_response(self, grant: _Grant, tenant: str | None, nonce: str | None) -> dict:
        lifetime = self.access_token_lifetime
        scope = " ".join(s for s in grant.scope.split() if s not in ("openid", "profile", "offline_access"))
        body = {
            "access_token": self._new_access_token(grant.username, grant, lifetime),
            "token_type": "Bearer",
            "expires_in": lifetime,
            "scope": scope,
            "refresh_token": grant.refresh_token,
        }
        if tenant is None and "openid" in grant.scope.split():
            body["id_token"] = _unsigned_jwt(
                {
                    "iss": self.base_url,
                    "aud": grant.client_id,
                    "sub": hashlib.sha1(grant.username.encode()).hexdigest()[:16],
                    "email": grant.username,
                    "email_verified": True,
                    "iat": int(time.time()),
                    "exp": int(time.time()) + lifetime,
                }
            )
        if tenant is not None:
            uid, tenant_id = hashlib.sha1(grant.username.encode()).hexdigest()[:16], "loopback-tenant"
            body["client_info"] = _b64url(json.dumps({"uid": uid, "utid": tenant_id}).encode())
            claims = {
                "iss": self._issuer(tenant),
                "aud": grant.client_id,
                "sub": uid,
                "oid": uid,
                "tid": tenant_id,
                "preferred_username": grant.username,
                "iat": int(time.time()),
                "exp": int(time.time()) + lifetime,
            }
            if nonce:
                claims["nonce"] = nonce
            # msal reads the claims of the ID token; a real one is signed, this one need not be.
            body["id_token"] = _unsigned_jwt(claims)
            body["ext_expires_in"] = lifetime
        return body

    def _issuer(self, tenant: str) -> str:
        return f"{self.microsoft_authority(tenant)}/v2.0"

    def openid_configuration(self, tenant: str) -> dict:
        authority = self.microsoft_authority(tenant)
        return {
            "issuer": self._issuer(tenant),
            "authorization_endpoint": f"{authority}/oauth2/v2.0/authorize",
            "token_endpoint": f"{authority}/oauth2/v2.0/token",
            "response_types_supported": ["code"],
            "code_challenge_methods_supported": ["S256"],
            "scopes_supported": ["openid", "profile", "offline_access"],
        }

    def introspect(self, token: str) -> dict:
        username = self.username_for(token)
        if not username or username in self.refused_mailboxes:
            return {"active": False}
        return {"active": True, "username": username}

    def revocation(self, token: str) -> tuple[int, dict]:
        """Answer ``/revoke`` as Google does (RFC 7009, without client authentication)."""
        with self._lock:
            self.revocation_requests += 1
            known = token in self._grants or token in self._access
        if not known:
            return 400, {"error": "invalid_token", "error_description": "Token expired or revoked"}
        self.revoke(token)
        return 200, {}


def _unsigned_jwt(claims: dict) -> str:
    header = _b64url(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    return f"{header}.{_b64url(json.dumps(claims).encode())}."


def _consent_page(params: dict[str, str], username: str) -> str:
    hidden = "".join(
        f'<input type="hidden" name="{html.escape(name)}" value="{html.escape(value)}">'
        for name, value in params.items()
        if name != "approved"
    )
    return (
        "<!DOCTYPE html><html><head><title>Loopback sign-in</title></head><body>"
        f"<h1>Allow access to the mailbox of {html.escape(username)}?</h1>"
        f'<form method="post" action="">{hidden}'
        '<input type="hidden" name="approved" value="yes">'
        '<button type="submit" name="allow" value="1">Allow</button></form></body></html>'
    )


def _handler_for(server: OAuthServer) -> type[BaseHTTPRequestHandler]:  # noqa: C901 - the routes of one small server, read together
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            path, _, query = self.path.partition("?")
            params = dict(urllib.parse.parse_qsl(query))
            if path.endswith(("/authorize", "/auth")):
                self._answer(*server.authorize(params))
            elif path.endswith("/v2.0/.well-known/openid-configuration"):
                tenant = path.strip("/").split("/")[0]
                self._json(200, server.openid_configuration(tenant))
            else:
                self._answer(404, {}, "Not found.")

        def do_POST(self):
            path = self.path.partition("?")[0]
            length = int(self.headers.get("Content-Length") or 0)
            form = dict(urllib.parse.parse_qsl(self.rfile.read(length).decode()))
            if path.endswith("/introspect"):
                self._json(200, server.introspect(form.get("token", "")))
            elif path.endswith("/revoke"):
                self._json(*server.revocation(form.get("token", "")))
            elif path.endswith(("/authorize", "/auth")):  # the consent page's "Allow"
                self._answer(*server.authorize(form))
            elif path.endswith("/token"):
                microsoft = "/oauth2/v2.0/" in path
                self._json(*server.token(form, path.strip("/").split("/")[0] if microsoft else None))
            else:
                self._answer(404, {}, "Not found.")

        def _json(self, status: int, body: dict) -> None:
            self._answer(
                status, {"Content-Type": "application/json", "Cache-Control": "no-store"}, json.dumps(body)
            )

        def _answer(self, status: int, headers: dict[str, str], body: str) -> None:
            payload = body.encode()
            self.send_response(status)
            headers.setdefault("Content-Type", "text/plain; charset=utf-8")
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args):
            pass

    return Handler
