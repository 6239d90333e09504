"""What a mail administrator does to a harness Dovecot while a client uses it, and what its log
says: a password changed, the logins of each mailbox.
"""

from __future__ import annotations

import collections
import os
import re
import secrets
import time

from .dovecot import DovecotServer, MailUser

_LOGIN = re.compile(r"imap-login: (?:\w+: )?Login: user=<([^>]+)>")


def change_password(server: DovecotServer, user: MailUser, password: str | None = None) -> MailUser:
    """Give ``user`` a new password (its old one is refused from now on); returns the user with it.

    Dovecot notices a changed passwd-file by its modification time, which it reads to the second:
    the file is dated a few seconds ahead so that the change is seen at the next login.
    """
    password = password or secrets.token_urlsafe(12)
    path = server.passwd_dir / user.login
    path.write_text(f"{user.login}:{{PLAIN}}{password}::::::\n")
    ahead = time.time() + 5
    os.utime(path, (ahead, ahead))
    return MailUser(user.login, password, user.maildir)


def log_offset(server: DovecotServer) -> int:
    """Where the server's log ends now: give it to ``logins_since`` to count what comes after."""
    return server.log_file.stat().st_size if server.log_file.exists() else 0


def logins_since(server: DovecotServer, start: int = 0) -> collections.Counter[str]:
    """Successful IMAP logins per user logged since offset ``start`` of the server's log."""
    with open(server.log_file, "rb") as log:
        log.seek(start)
        text = log.read().decode(errors="replace")
    return collections.Counter(_LOGIN.findall(text))
