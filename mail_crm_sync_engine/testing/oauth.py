"""A small OAuth 2 token introspection endpoint on loopback, which Dovecot asks about bearer tokens.

Dovecot's oauth2 passdb POSTs ``token=...``; an issued token answers ``{"active": true,
"username": ...}``, anything else ``{"active": false}``.
"""

from __future__ import annotations

import json
import secrets
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class OAuthServer:
    host = "127.0.0.1"

    def __init__(self) -> None:
        self.tokens: dict[str, str] = {}
        tokens = self.tokens

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                form = urllib.parse.parse_qs(self.rfile.read(length).decode())
                token = (form.get("token") or [""])[0]
                username = tokens.get(token)
                body = {"active": True, "username": username} if username else {"active": False}
                payload = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):
                pass

        self._server = ThreadingHTTPServer((self.host, 0), Handler)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def introspection_url(self) -> str:
        return f"http://{self.host}:{self.port}/introspect"

    def issue_token(self, username: str) -> str:
        token = secrets.token_urlsafe(24)
        self.tokens[token] = username
        return token

    def revoke(self, token: str) -> None:
        self.tokens.pop(token, None)

    def start(self) -> OAuthServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> OAuthServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
