import logging

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from odoo import api, models
from odoo.tools import config

from ..exceptions import MailSyncUserError

_logger = logging.getLogger(__name__)

# Server configuration option (odoo.conf, [options]) holding the key: one Fernet key, or several
# separated by commas to rotate (the first encrypts, all decrypt).
KEY_OPTION = "mail_crm_sync_key"
PREFIX = "fernet:"


class MailSyncCredentials(models.AbstractModel):
    """Encrypts the secrets of mail accounts (passwords, and OAuth tokens later) at rest.

    The key comes from the server configuration, never from the database, so a copy of the
    database alone does not give the mailboxes away. Without a key, secrets are stored as given and
    the server log and the account form say so.
    """

    _name = "mail.sync.credentials"
    _description = "Mail Sync Encrypted Credentials"

    @api.model
    def _credentials_cipher(self):
        keys = [key.strip() for key in (config.get(KEY_OPTION) or "").split(",") if key.strip()]
        if not keys:
            return None
        try:
            return MultiFernet([Fernet(key.encode()) for key in keys])
        except ValueError as error:
            raise MailSyncUserError(
                self.env._(
                    "The %(option)s option of the server configuration is not a valid key: %(error)s",
                    option=KEY_OPTION,
                    error=error,
                ),
                self.env._("Encryption Key Missing or Wrong"),
            ) from error

    @api.model
    def _credentials_encrypted(self):
        return bool((config.get(KEY_OPTION) or "").strip())

    @api.model
    def _encrypt_secret(self, secret):
        """What to store for ``secret``: encrypted when the server has a key."""
        if not secret:
            return False
        cipher = self._credentials_cipher()
        return PREFIX + cipher.encrypt(secret.encode()).decode() if cipher else secret

    @api.model
    def _decrypt_secret(self, stored):
        if not stored or not stored.startswith(PREFIX):
            return stored or False
        cipher = self._credentials_cipher()
        if cipher is None:
            raise MailSyncUserError(
                self.env._(
                    "This account's password is encrypted, but the server configuration has no %(option)s "
                    "option: add the key it was encrypted with.",
                    option=KEY_OPTION,
                ),
                self.env._("Encryption Key Missing or Wrong"),
            )
        try:
            return cipher.decrypt(stored.removeprefix(PREFIX).encode()).decode()
        except InvalidToken as error:
            raise MailSyncUserError(
                self.env._(
                    "This account's password was encrypted with another key than the %(option)s option of "
                    "the server configuration: add that key, or enter the password again.",
                    option=KEY_OPTION,
                ),
                self.env._("Encryption Key Missing or Wrong"),
            ) from error
