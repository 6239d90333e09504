"""The loopback OAuth server with what a user does at the provider's account page: see the
tokens an application holds for them, remove its access.
"""

from __future__ import annotations

from .oauth import OAuthServer


class OAuthProvider(OAuthServer):
    """``OAuthServer`` with each user's grants at hand."""

    def tokens_of(self, username: str) -> list[str]:
        """The refresh tokens and live access tokens issued to ``username``'s grants."""
        with self._lock:
            grants = [grant for grant in self._grants.values() if grant.username == username]
            return [token for grant in grants for token in (grant.refresh_token, *grant.access_tokens)]

    def revoke_access(self, username: str) -> int:
        """Remove every application's access to ``username``'s account, as the user does in the
        provider's security page: refresh and access tokens stop working at once. Returns how many
        grants were revoked."""
        with self._lock:
            refresh_tokens = [token for token, grant in self._grants.items() if grant.username == username]
        for token in refresh_tokens:
            self.revoke(token)
        return len(refresh_tokens)
