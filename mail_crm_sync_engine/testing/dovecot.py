"""A private Dovecot IMAP server on loopback, for tests and benchmarks.

Everything lives under one temporary directory: config, passwd-file, maildirs,
a self-signed certificate, logs. Nothing touches the system Dovecot.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from .tls import make_self_signed_certificate

_logger = logging.getLogger(__name__)

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"

# Special-use folders every harness user gets, as a real provider would create them.
SPECIAL_FOLDERS = {
    "Sent": r"\Sent",
    "Trash": r"\Trash",
    "Junk": r"\Junk",
    "Drafts": r"\Drafts",
    "Archive": r"\Archive",
}


# What Dovecot 2.3 advertises after login, for servers told to hide some of it.
DOVECOT_CAPABILITIES = (
    "IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE SORT SORT=DISPLAY THREAD=REFERENCES THREAD=REFS "
    "THREAD=ORDEREDSUBJECT MULTIAPPEND URL-PARTIAL CATENATE UNSELECT CHILDREN NAMESPACE UIDPLUS "
    "LIST-EXTENDED I18NLEVEL=1 CONDSTORE QRESYNC ESEARCH ESORT SEARCHRES WITHIN CONTEXT=SEARCH "
    "LIST-STATUS BINARY MOVE SNIPPET=FUZZY PREVIEW=FUZZY PREVIEW STATUS=SIZE SAVEDATE LITERAL+ NOTIFY "
    "SPECIAL-USE"
)
# Microsoft 365's list, roughly: no CONDSTORE, no QRESYNC.
_M365_LIKE_CAPABILITIES = (
    "IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE SORT THREAD=REFERENCES "
    "MULTIAPPEND UNSELECT CHILDREN NAMESPACE UIDPLUS LIST-EXTENDED I18NLEVEL=1 ESEARCH "
    "SEARCHRES WITHIN CONTEXT=SEARCH LIST-STATUS BINARY MOVE SPECIAL-USE LITERAL+"
)


def dovecot_available() -> bool:
    return os.path.exists(DOVECOT)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass(frozen=True, slots=True)
class MailUser:
    """A mailbox on the harness server."""

    login: str
    password: str
    maildir: Path

    @property
    def email(self) -> str:
        return self.login if "@" in self.login else f"{self.login}@example.test"


class DovecotServer:
    """Start with ``start()``, stop with ``stop()``; also a context manager.

    ``condstore=False`` hides CONDSTORE and QRESYNC from the capability list, the way
    Microsoft 365 presents itself; ``hide_capabilities`` hides others (``MOVE``, ``UIDPLUS``), so
    the code paths for servers without them run against a real server. ``special_folders`` are
    the special-use folders every user gets (name to flag); ``{}`` gives bare mailboxes with
    INBOX alone, as some hosts create them. ``memory_limit`` raises what each Dovecot process may
    use (``default_vsz_limit``, 256 MB by default): indexing a folder of a million messages needs
    more.
    """

    host = "127.0.0.1"

    def __init__(  # noqa: PLR0913 - a test server's knobs, all keywords with defaults
        self,
        *,
        condstore: bool = True,
        oauth_introspection_url: str | None = None,
        hide_capabilities: tuple[str, ...] = (),
        special_folders: dict[str, str] | None = None,
        max_connections: int = 64,
        memory_limit: str | None = None,
    ):
        self.condstore = condstore
        self.memory_limit = memory_limit
        self.oauth_introspection_url = oauth_introspection_url
        self.hide_capabilities = frozenset(name.upper() for name in hide_capabilities)
        self.max_connections = max_connections  # IMAP sessions at once (one process each)
        self.special_folders = SPECIAL_FOLDERS if special_folders is None else dict(special_folders)
        self.root = Path(tempfile.mkdtemp(prefix="mcs-dovecot-"))
        self.root.chmod(0o755)
        self.port = free_port()  # plain and STARTTLS
        self.ssl_port = free_port()  # implicit TLS
        self.cert_file = self.root / "cert.pem"
        self.key_file = self.root / "key.pem"
        self.passwd_dir = self.root / "passwd.d"
        self.mail_root = self.root / "mail"
        self.config_file = self.root / "dovecot.conf"
        self.log_file = self.root / "dovecot.log"
        self._process: subprocess.Popen | None = None
        self._users: dict[str, MailUser] = {}
        # Dovecot refuses to run its login and mail processes as root: as root, use the
        # package's own users for its services and `nobody` for the mail files.
        me = pwd.getpwuid(os.geteuid())
        if me.pw_uid == 0:
            self._login_user, self._internal_user = "dovenull", "dovecot"
            mail_owner = pwd.getpwnam("nobody")
        else:
            self._login_user = self._internal_user = me.pw_name
            mail_owner = me
        self._uid, self._gid = mail_owner.pw_uid, mail_owner.pw_gid

    # -- lifecycle -------------------------------------------------------------------------

    def __enter__(self) -> DovecotServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self) -> DovecotServer:
        make_self_signed_certificate(self.cert_file, self.key_file, "localhost")
        self.mail_root.mkdir()
        os.chown(self.mail_root, self._uid, self._gid) if os.geteuid() == 0 else None
        self.passwd_dir.mkdir()
        (self.root / "run").mkdir()
        (self.root / "state").mkdir()
        self.config_file.write_text(self._config())
        self._process = subprocess.Popen(
            [DOVECOT, "-F", "-c", str(self.config_file)],
            stdout=subprocess.DEVNULL,
            stderr=open(self.log_file, "ab"),  # noqa: SIM115 - the child keeps it
            start_new_session=True,
        )
        # A test run that dies without its cleanup must not leave a server behind.
        atexit.register(self.stop)
        self._wait_until_listening()
        return self

    def stop(self) -> None:
        if self._process and self._process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self._process.pid, signal.SIGTERM)
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self._process.pid, signal.SIGKILL)
                self._process.wait()
        self._process = None
        atexit.unregister(self.stop)
        shutil.rmtree(self.root, ignore_errors=True)

    def _wait_until_listening(self) -> None:
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"dovecot exited at start:\n{self.log()}")
            try:
                for port in (self.port, self.ssl_port):
                    socket.create_connection((self.host, port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"dovecot did not listen within 15 s:\n{self.log()}")

    def log(self) -> str:
        return self.log_file.read_text(errors="replace") if self.log_file.exists() else ""

    # -- users and mail --------------------------------------------------------------------

    def add_user(self, login: str | None = None, password: str | None = None) -> MailUser:
        """Create a mailbox user with INBOX and the server's special-use folders."""
        login = login or f"user{len(self._users) + 1}-{secrets.token_hex(3)}@example.test"
        password = password or secrets.token_urlsafe(12)
        user = MailUser(login, password, self.mail_root / login)
        # One passwd-file per user: Dovecot re-reads a changed file only once a second.
        (self.passwd_dir / login).write_text(f"{login}:{{PLAIN}}{password}::::::\n")
        # Maildir++ keeps "[Gmail]/Sent Mail" as the directory ".[Gmail].Sent Mail".
        for folder in ("", *(f".{name.replace('/', '.')}" for name in self.special_folders)):
            for sub in ("cur", "new", "tmp"):
                (user.maildir / folder / sub).mkdir(parents=True, exist_ok=True)
        (user.maildir / "subscriptions").write_text("".join(f"{name}\n" for name in self.special_folders))
        self._give_to_mail_owner(user.maildir)
        self._users[login] = user
        return user

    def deliver(
        self,
        user: MailUser,
        message: bytes,
        folder: str = "INBOX",
        flags: str = "",
        when: float | None = None,
    ) -> Path:
        """Drop a message straight into a maildir folder (fast; the server indexes it on access).

        ``folder`` uses the IMAP name with '.' as separator, e.g. ``Sent``; ``flags`` the maildir
        letters (``S`` for \\Seen); ``when`` the arrival time (INTERNALDATE) as a Unix timestamp.
        """
        directory = user.maildir if folder.upper() == "INBOX" else user.maildir / f".{folder}"
        if not (directory / "cur").is_dir():
            for sub in ("cur", "new", "tmp"):
                (directory / sub).mkdir(parents=True, exist_ok=True)
            self._give_to_mail_owner(directory)
        name = f"{time.time_ns()}.{secrets.token_hex(6)}.harness"
        tmp = directory / "tmp" / name
        tmp.write_bytes(message.replace(b"\r\n", b"\n"))
        if when is not None:
            os.utime(tmp, (when, when))  # maildir's INTERNALDATE is the file's mtime
        target = directory / "cur" / f"{name}:2,{flags}"
        os.rename(tmp, target)
        if os.geteuid() == 0:
            os.lchown(target, self._uid, self._gid)
        return target

    def fill(
        self,
        user: MailUser,
        count: int,
        *,
        folder: str = "INBOX",
        first_uid: int | None = None,
        when: float | None = None,
    ) -> None:
        """Write ``count`` tiny messages (a few lines of headers, one of text) straight into a
        folder's maildir: tens of thousands a second, for big-folder tests and benchmarks.

        ``first_uid``: the UID Dovecot gives the first of them (large UIDs make long SEARCH
        answers out of fewer messages); only for a folder no client has opened yet (no
        dovecot-uidlist). ``when``: their arrival time (INTERNALDATE) as a Unix timestamp.
        """
        directory = user.maildir if folder.upper() == "INBOX" else user.maildir / f".{folder}"
        if not (directory / "cur").is_dir():
            for sub in ("cur", "new", "tmp"):
                (directory / sub).mkdir(parents=True, exist_ok=True)
            self._give_to_mail_owner(directory)
        as_root = os.geteuid() == 0
        if first_uid is not None:
            uidlist = directory / "dovecot-uidlist"
            if uidlist.exists():
                raise ValueError(f"{folder} was opened already: its UIDs are Dovecot's")
            # The header of Dovecot's own file (version 3): UIDVALIDITY, next UID, mailbox GUID.
            uidlist.write_text(f"3 V{int(time.time())} N{first_uid} G{secrets.token_hex(16)}\n")
            if as_root:
                os.lchown(uidlist, self._uid, self._gid)
        batch = secrets.token_hex(4)
        stamp = int(when if when is not None else time.time())
        date = time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime(stamp))
        cur = directory / "cur"
        for index in range(count):
            data = (
                f"From: Sender {index} <sender{index % 1000}@big.example>\n"
                f"To: {user.email}\n"
                f"Subject: Message {index}\n"
                f"Message-ID: <{index}.{batch}@big.example>\n"
                f"Date: {date}\n"
                "\n"
                f"Message {index}.\n"
            ).encode()
            # The size in the name (S=) spares Dovecot a stat per message.
            path = cur / f"{stamp}.M{index}{batch}.fill,S={len(data)}:2,"
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            try:
                os.write(descriptor, data)
                if as_root:
                    os.fchown(descriptor, self._uid, self._gid)
            finally:
                os.close(descriptor)
            if when is not None:
                os.utime(path, (when, when))  # maildir's INTERNALDATE is the file's mtime

    def _give_to_mail_owner(self, directory: Path) -> None:
        if os.geteuid() != 0:
            return
        for path in (directory, *directory.rglob("*")):
            os.lchown(path, self._uid, self._gid)

    # -- configuration ---------------------------------------------------------------------

    def _config(self) -> str:
        root = self.root
        capability = ""
        if not self.condstore or self.hide_capabilities:
            advertised = (DOVECOT_CAPABILITIES if self.condstore else _M365_LIKE_CAPABILITIES).split()
            shown = " ".join(name for name in advertised if name.upper() not in self.hide_capabilities)
            capability = f"imap_capability = {shown}\n"
        limits = f"default_vsz_limit = {self.memory_limit}\n" if self.memory_limit else ""
        mailboxes = "".join(
            f'  mailbox "{name}" {{\n    special_use = {flag}\n    auto = subscribe\n  }}\n'
            for name, flag in self.special_folders.items()
        )
        oauth = ""
        mechanisms = "plain login"
        if self.oauth_introspection_url:
            mechanisms += " xoauth2 oauthbearer"
            (root / "oauth2.conf").write_text(
                "introspection_mode = post\n"
                f"introspection_url = {self.oauth_introspection_url}\n"
                "username_attribute = username\n"
                "active_attribute = active\n"
                "active_value = true\n"
                "force_introspection = yes\n"
                "tokeninfo_url = \n"
            )
            oauth = (
                "passdb {\n"
                "  driver = oauth2\n"
                "  mechanisms = xoauth2 oauthbearer\n"
                f"  args = {root}/oauth2.conf\n"
                "}\n"
            )
        return f"""\
# Private harness instance; generated, not for production.
base_dir = {root}/run
state_dir = {root}/state
instance_name = mcs-{root.name}
log_path = /dev/stderr
protocols = imap
listen = 127.0.0.1
default_internal_user = {self._internal_user}
default_login_user = {self._login_user}
first_valid_uid = 1
first_valid_gid = 1
ssl = yes
ssl_cert = <{self.cert_file}
ssl_key = <{self.key_file}
ssl_min_protocol = TLSv1.2
disable_plaintext_auth = no
auth_mechanisms = {mechanisms}
auth_cache_size = 0
auth_failure_delay = 0
mail_location = maildir:{self.mail_root}/%u
mail_fsync = never
maildir_very_dirty_syncs = no
namespace inbox {{
  inbox = yes
  separator = /
{mailboxes}}}
{oauth}passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {self.passwd_dir}/%u
}}
userdb {{
  driver = static
  args = uid={self._uid} gid={self._gid} home={self.mail_root}/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {self.port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {self.ssl_port}
    ssl = yes
  }}
  process_min_avail = 1
}}
service imap {{
  process_limit = {self.max_connections}
}}
service anvil {{
  chroot =
  # No growing penalty (2, 4, 8, 15 s) per IP after the refused logins tests make on purpose:
  # without this socket the auth process skips the penalty.
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
service stats {{
  unix_listener stats-reader {{
    user = {self._internal_user}
  }}
  unix_listener stats-writer {{
    user = {self._internal_user}
  }}
}}
mail_max_userip_connections = 200
{capability}{limits}"""
