"""A private Cyrus IMAP 3.6 server on loopback, for tests: a second server family beside Dovecot.

Debian's cyrus-imapd conflicts with dovecot-imapd, so it is not installed: scripts/install-test-servers
unpacks its .debs (and the libraries they need) into a directory of its own, which
``unpacked_root()`` finds and from which the server runs with ``LD_LIBRARY_PATH``. Its
configuration is Debian's imapd.conf (``INBOX.`` hierarchy, "." separator) with the paths, the
port and the password store moved under one temporary directory; passwords live in a sasldb file
(auxprop), so LOGIN and AUTHENTICATE PLAIN are checked for real, in UTF-8.
"""

from __future__ import annotations

import atexit
import contextlib
import imaplib
import logging
import os
import pwd
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Self

from imapclient.imap_utf7 import encode

from .dovecot import MailUser, free_port
from .tls import make_self_signed_certificate

_logger = logging.getLogger(__name__)

# Special-use folders every harness user gets, as Dovecot's harness gives them.
SPECIAL_FOLDERS = {"Sent": r"\Sent", "Trash": r"\Trash", "Junk": r"\Junk", "Drafts": r"\Drafts"}
# Maildir flag letters (what ``DovecotServer.deliver`` takes) as IMAP flags.
MAILDIR_FLAGS = {"S": r"\Seen", "F": r"\Flagged", "R": r"\Answered", "T": r"\Deleted", "D": r"\Draft"}

_ADMIN = "cyrusadmin"
_REALM = "localhost"  # Cyrus's servername, the realm it looks passwords up under


# -- the unpacked Debian packages (courier.py runs from them too) ------------------------------


def unpacked_root() -> Path:
    """Where scripts/install-test-servers unpacked Cyrus and Courier."""
    configured = os.environ.get("MAIL_CRM_SYNC_IMAP_SERVERS")
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return Path(configured or cache / "mail_crm_sync" / "imap-servers") / "root"


def unpacked_environment(seen_at: Path) -> dict[str, str]:
    """The environment that runs the unpacked binaries, found at ``seen_at``: their libraries
    before the machine's."""
    libraries = ("lib/x86_64-linux-gnu", "usr/lib/x86_64-linux-gnu", "usr/lib")
    environment = {**os.environ, "LD_LIBRARY_PATH": ":".join(str(seen_at / path) for path in libraries)}
    # SASL plugins (PLAIN, LOGIN, sasldb): the unpacked ones when the machine had none.
    plugins = "usr/lib/x86_64-linux-gnu/sasl2"
    unpacked = unpacked_root() / plugins
    environment["SASL_PATH"] = str(seen_at / plugins if unpacked.is_dir() else Path("/") / plugins)
    return environment


def in_mount_namespace(mounts: Sequence[str], command: Sequence[str]) -> list[str]:
    """``command`` run in a mount namespace of its own (``unshare -m``, as root) after the shell
    lines ``mounts`` (``bind(...)`` and the like): what they mount is seen by its processes alone."""
    script = "set -e\n" + "\n".join(mounts) + '\nexec "$@"\n'
    return ["unshare", "--mount", "--propagation", "private", "sh", "-c", script, "sh", *command]


def stop_in_namespace(process: subprocess.Popen | None) -> None:
    """Stop ``process`` (started by ``in_mount_namespace`` as the leader of a new session), its
    process group, and whatever else runs in its mount namespace: a daemon a server started in a
    session of its own (Courier's gam_server) belongs to this instance and ends with it."""
    if process is None or process.poll() is not None:
        return
    try:
        namespace = os.readlink(f"/proc/{process.pid}/ns/mnt")
    except OSError:
        namespace = None
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    if namespace is None or namespace == os.readlink("/proc/self/ns/mnt"):
        return
    for entry in Path("/proc").iterdir():
        with contextlib.suppress(OSError):
            if entry.name.isdigit() and os.readlink(entry / "ns/mnt") == namespace:
                os.kill(int(entry.name), signal.SIGKILL)


def bind(source: Path, mount_point: Path) -> str:
    """The shell line that bind-mounts ``source`` on ``mount_point``.

    A server drops to an unprivileged user that cannot reach the unpacked packages under root's
    home (0700): bound at a path of the instance's own, they are there for it, and nowhere else.
    """
    return f"mount --bind {shlex.quote(str(source))} {shlex.quote(str(mount_point))}"


def imap_flags(letters: str) -> tuple[str, ...]:
    """Maildir flag letters ("SF") as IMAP flags."""
    return tuple(MAILDIR_FLAGS[letter] for letter in letters)


def plain_login(imap: imaplib.IMAP4, login: str, password: str) -> None:
    """AUTHENTICATE PLAIN (RFC 4616): a login and a password in UTF-8, which LOGIN cannot carry."""
    imap.authenticate("PLAIN", lambda _challenge: f"\0{login}\0{password}".encode())


def cyrus_available() -> bool:
    return (unpacked_root() / "usr/lib/cyrus/bin/master").is_file()


# -- the server ------------------------------------------------------------------------------


class InboxHierarchyServer:
    """What the private Cyrus and Courier of the tests share: their folders live under INBOX with
    "." between levels, they start and stop in a ``with`` block, and they keep a log file."""

    host = "127.0.0.1"
    separator = "."
    log_file: Path

    def folder(self, name: str) -> str:
        """The IMAP name of a folder given as on Dovecot ("Sent", "Clients/Acme")."""
        if name.upper() == "INBOX" or name.startswith("INBOX."):
            return name
        return "INBOX." + name.replace("/", self.separator)

    def start(self) -> Self:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


class CyrusServer(InboxHierarchyServer):
    """Start with ``start()``, stop with ``stop()``; also a context manager.

    ``add_user`` and ``deliver`` take what DovecotServer's take; mail is delivered by APPEND as
    the user (Cyrus keeps its own store), with the arrival time as INTERNALDATE. Folder names are
    given as on Dovecot ("Sent") and live under INBOX on this server: ``folder("Sent")`` is the
    IMAP name, "INBOX.Sent".
    """

    name = "cyrus"

    def __init__(self, *, special_folders: dict[str, str] | None = None):
        self.special_folders = SPECIAL_FOLDERS if special_folders is None else dict(special_folders)
        self.unpacked = unpacked_root()
        self.root = Path(tempfile.mkdtemp(prefix="mcs-cyrus-"))
        self.root.chmod(0o755)
        self.port = free_port()  # plain and STARTTLS
        self.ssl_port = free_port()  # implicit TLS
        self.config_file = self.root / "imapd.conf"
        self.services_file = self.root / "cyrus.conf"
        self.sasldb = self.root / "sasldb2"
        self.cert_file = self.root / "cert.pem"
        self.key_file = self.root / "key.pem"
        self.log_file = self.root / "master.log"
        # The unpacked packages as the server's processes see them: as root, which they drop, at a
        # path of the instance's own (see ``bind``).
        self.packages = self.root / "packages" if os.geteuid() == 0 else self.unpacked
        self.admin_password = secrets.token_urlsafe(12)
        self._process: subprocess.Popen | None = None
        self._users: dict[str, MailUser] = {}
        # The master drops to this user for every service; as root, `nobody` owns the store.
        self._owner = pwd.getpwnam("nobody") if os.geteuid() == 0 else pwd.getpwuid(os.geteuid())

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> CyrusServer:
        if not cyrus_available():
            raise RuntimeError(f"Cyrus is not unpacked in {self.unpacked}: run scripts/install-test-servers")
        make_self_signed_certificate(self.cert_file, self.key_file, "localhost")
        for directory in ("config", "spool", "run/socket", "run/lock", "run/proc"):
            (self.root / directory).mkdir(parents=True)
        self.packages.mkdir(exist_ok=True)
        self.config_file.write_text(self._config())
        self.services_file.write_text(self._services())
        self._set_password(_ADMIN, self.admin_password)
        self._give_to_owner()
        master = [
            str(self.packages / "usr/lib/cyrus/bin/master"),
            *("-C", str(self.config_file), "-M", str(self.services_file)),
            *("-p", str(self.root / "run/master.pid"), "-L", str(self.log_file)),
        ]
        if self.packages != self.unpacked:
            master = in_mount_namespace([bind(self.unpacked, self.packages)], master)
        self._process = subprocess.Popen(
            master,
            env=unpacked_environment(self.packages),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        # A test run that dies without its cleanup must not leave a server behind.
        atexit.register(self.stop)
        self._wait_until_listening()
        return self

    def stop(self) -> None:
        stop_in_namespace(self._process)
        self._process = None
        atexit.unregister(self.stop)
        shutil.rmtree(self.root, ignore_errors=True)

    def _wait_until_listening(self) -> None:
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"cyrus master exited at start:\n{self.log()}")
            try:
                for port in (self.port, self.ssl_port):
                    with socket.create_connection((self.host, port), timeout=1) as sock:
                        sock.settimeout(5)
                        if port == self.port and not sock.recv(100).startswith(b"* OK"):
                            raise OSError("no greeting yet")
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"cyrus did not listen within 15 s:\n{self.log()}")

    def log(self) -> str:
        return self.log_file.read_text(errors="replace") if self.log_file.exists() else ""

    # -- users and mail --------------------------------------------------------------------

    def add_user(self, login: str | None = None, password: str | None = None) -> MailUser:
        """Create a user (sasldb), its INBOX (as the administrator) and its special-use folders."""
        # Debian's Cyrus separates folders with ".", so a login has none ("@" would need virtdomains).
        login = login or f"user{len(self._users) + 1}-{secrets.token_hex(3)}"
        password = password or secrets.token_urlsafe(12)
        self._set_password(login, password)
        with self._session(_ADMIN, self.admin_password) as imap:
            _check(imap.create(f"user.{login}"))
        with self._session(login, password) as imap:
            for name, flag in self.special_folders.items():
                folder = self.folder(name)
                _check(imap._simple_command("CREATE", _quoted(folder), f"(USE ({flag}))"))
                _check(imap.subscribe(_quoted(folder)))
        user = MailUser(login, password, self.root / "spool" / "user" / login)
        self._users[login] = user
        return user

    def deliver(
        self,
        user: MailUser,
        message: bytes,
        folder: str = "INBOX",
        flags: str = "",
        when: float | None = None,
    ) -> int:
        """APPEND a message as the user; its UID. ``flags`` are maildir letters (``S`` for \\Seen),
        ``when`` the arrival time (INTERNALDATE) as a Unix timestamp."""
        internal_date = imaplib.Time2Internaldate(when if when is not None else time.time())
        with self._session(user.login, user.password) as imap:
            typ, data = imap.append(
                _quoted(self.folder(folder)),
                f"({' '.join(imap_flags(flags))})",
                internal_date,
                message.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n"),
            )
            _check((typ, data))
            code = imap.untagged_responses.get("APPENDUID", [b"0 0"])[-1]
        return int(code.split()[-1])

    @contextlib.contextmanager
    def _session(self, login: str, password: str):
        imap = imaplib.IMAP4(self.host, self.port, timeout=30)
        try:
            plain_login(imap, login, password)
            yield imap
        finally:
            with contextlib.suppress(imaplib.IMAP4.error, OSError):
                imap.logout()

    def _set_password(self, login: str, password: str) -> None:
        subprocess.run(
            [
                str(self.unpacked / "usr/sbin/saslpasswd2"),
                "-f",
                str(self.sasldb),
                "-p",
                "-c",
                "-u",
                _REALM,
                login,
            ],
            input=password.encode(),
            env=unpacked_environment(self.unpacked),
            check=True,
            capture_output=True,
        )
        if os.geteuid() == 0:
            os.chown(self.sasldb, self._owner.pw_uid, self._owner.pw_gid)

    def _give_to_owner(self) -> None:
        if os.geteuid() != 0:
            return
        for path in (self.root, *self.root.rglob("*")):
            os.lchown(path, self._owner.pw_uid, self._owner.pw_gid)

    # -- configuration ---------------------------------------------------------------------

    def _config(self) -> str:
        root = self.root
        return f"""\
# Private harness instance: Debian's imapd.conf with its paths under {root}.
configdirectory: {root}/config
proc_path: {root}/run/proc
mboxname_lockpath: {root}/run/lock
defaultpartition: default
partition-default: {root}/spool
altnamespace: no
unixhierarchysep: no
umask: 077
hashimapspool: false
mailbox_legacy_dirs: yes
servername: {_REALM}
admins: {_ADMIN}
cyrus_user: {self._owner.pw_name}
allowplaintext: yes
sasl_pwcheck_method: auxprop
sasl_auxprop_plugin: sasldb
sasl_sasldb_path: {self.sasldb}
sasl_mech_list: PLAIN LOGIN
sasl_auto_transition: no
tls_server_cert: {self.cert_file}
tls_server_key: {self.key_file}
lmtpsocket: {root}/run/socket/lmtp
idlesocket: {root}/run/socket/idle
notifysocket: {root}/run/socket/notify
syslog_prefix: mcs-cyrus
"""

    def _services(self) -> str:
        binaries = self.packages / "usr/lib/cyrus/bin"
        config = f"-C {self.config_file}"
        return f"""\
START {{
  recover cmd="{binaries}/ctl_cyrusdb {config} -r"
}}
SERVICES {{
  imap cmd="{binaries}/imapd {config} -U 30" listen="{self.host}:{self.port}" prefork=0 maxchild=100
  imaps cmd="{binaries}/imapd {config} -s -U 30" listen="{self.host}:{self.ssl_port}" prefork=0 maxchild=100
}}
EVENTS {{
}}
"""


def _quoted(name: str) -> str:
    """A mailbox name as an IMAP quoted string, in modified UTF-7 as IMAP wants it."""
    encoded = encode(name).decode("ascii")
    return '"' + encoded.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _check(answer: tuple[str, list]) -> None:
    typ, data = answer
    if typ != "OK":
        raise RuntimeError(f"cyrus refused: {data!r}")
