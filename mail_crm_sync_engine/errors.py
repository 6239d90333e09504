"""What can go wrong talking to a mail server, each with a sentence a user can act on."""

from __future__ import annotations

# Words servers use when they throttle (Gmail, Microsoft 365, Dovecot's anvil), in IMAP and SMTP.
THROTTLE_MARKERS = (
    "[THROTTLED]",
    "too many simultaneous",
    "throttl",
    "[limit]",
    "maximum number of connections",
)


def says_throttled(text: str) -> bool:
    """Whether a server's answer asks us to slow down."""
    lowered = text.lower()
    return any(marker.lower() in lowered for marker in THROTTLE_MARKERS)


class MailSyncError(Exception):
    """Base of every engine error. ``str(error)`` is a sentence for the user."""

    counts_as_connection_failure = True


class ServerUnreachable(MailSyncError):
    """The host name does not resolve, or nothing answers on that port."""


class TlsFailure(MailSyncError):
    """The TLS handshake failed, most often an unverifiable certificate."""


class AuthenticationFailed(MailSyncError):
    """The server refused the login or the token."""


class ClientRefused(MailSyncError):
    """The provider's token endpoint refused this application (``invalid_client``): its client
    secret changed at the provider, or the client id is wrong or deleted. No user can fix it by
    signing in again; an administrator must correct the application's settings. Counted as a
    connection failure, as a wrong server name is."""


class Throttled(MailSyncError):
    """The server asks us to slow down; back off, and do not count it as a failure."""

    counts_as_connection_failure = False


class ServerRefused(MailSyncError):
    """The server answered NO or BAD; the message carries its text."""


class Timeout(MailSyncError):
    """The server stopped answering within the time allowed."""


class DeliveryUncertain(MailSyncError):
    """The SMTP server took the whole message but its answer never came (a timeout or a dropped
    connection after the final dot): it may have accepted the message. Sending it again could
    deliver it twice, so this is never tried again by itself; the user checks, then decides."""


class RunDeadlineReached(Timeout):
    """The whole run took longer than its deadline (``connect(run_deadline=...)``): a server that
    answers too slowly, or trickles its answers, could otherwise hold the account and its thread
    for good. The connection was dropped; what was stored before stays."""

    @classmethod
    def after(cls, seconds: float) -> RunDeadlineReached:
        return cls(f"The mail server was too slow: the sync stopped after {seconds:g} seconds.")


class FolderError(MailSyncError):
    """One folder could not be read; the others go on."""

    counts_as_connection_failure = False


class MessageGone(MailSyncError):
    """The message is no longer on the server, not even under another UID."""

    counts_as_connection_failure = False


class MessageRefused(ServerRefused):
    """The SMTP server would not take this message (its sender, size or content); nothing was
    sent. The account itself works."""

    counts_as_connection_failure = False


class RecipientsRefused(MessageRefused):
    """The SMTP server refused some recipients; nothing was sent to anyone.

    ``refused`` maps each refused address to the server's answer.
    """

    def __init__(self, message: str, refused: dict[str, str]):
        super().__init__(message)
        self.refused = dict(refused)


class Unsupported(MailSyncError):
    """The server lacks what an action needs to be done safely; nothing was changed."""

    counts_as_connection_failure = False


class GrantRevoked(MailSyncError):
    """The provider no longer honours the user's consent (``invalid_grant``): it was revoked,
    expired or never completed. Only the user can fix it, by connecting the account again; it is
    not a connection failure."""

    counts_as_connection_failure = False


class UidValidityChanged(FolderError):
    """The folder's UIDVALIDITY is not the one the UIDs were taken at: they name other messages
    now, or none. Search again."""
