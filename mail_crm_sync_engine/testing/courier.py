"""A private Courier IMAP 5.0 server on loopback, for tests: a third server family beside Dovecot.

Debian's courier-imap conflicts with dovecot-imapd, so it is not installed: scripts/install-test-servers
unpacks its .debs into a directory of its own (``unpacked_root()``). Courier reads its
configuration and finds its authentication daemon and modules at compiled-in paths (/etc/courier,
/run/courier, /usr/lib/courier-authlib): it runs in a mount namespace of its own (``unshare -m``,
as root) in which the instance's directories are bind-mounted over those paths, and nowhere else.

Its configuration is Debian's (/etc/courier/imapd, maildirs under ``INBOX.`` with "." as
separator, no UIDNEXT in the SELECT answer, neither MOVE nor SPECIAL-USE); authentication is
authdaemond with a userdb file, so LOGIN and AUTHENTICATE PLAIN are checked for real. Plain IMAP
on loopback, without TLS.
"""

from __future__ import annotations

import atexit
import base64
import hashlib
import os
import pwd
import secrets
import shlex
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from .cyrus import (
    InboxHierarchyServer,
    bind,
    in_mount_namespace,
    stop_in_namespace,
    unpacked_environment,
    unpacked_root,
)
from .dovecot import MailUser, free_port

# Maildir++ folders every harness user gets (Courier has no special-use flags: found by name).
FOLDERS = ("Sent", "Trash", "Drafts", "Junk")

# What Debian's /etc/courier/imapd advertises, and with AUTH=PLAIN (its list for TLS sessions).
_CAPABILITY = "IMAP4rev1 UIDPLUS CHILDREN NAMESPACE THREAD=ORDEREDSUBJECT THREAD=REFERENCES SORT QUOTA IDLE"


def courier_available() -> bool:
    return (unpacked_root() / "usr/lib/courier/courier/imaplogin").is_file()


class CourierServer(InboxHierarchyServer):
    """Start with ``start()``, stop with ``stop()``; also a context manager.

    ``add_user`` and ``deliver`` take what DovecotServer's take; mail is dropped into the maildir
    as a delivery agent would. Folder names are given as on Dovecot ("Sent") and live under INBOX
    on this server: ``folder("Sent")`` is the IMAP name, "INBOX.Sent". ``auth_plain=False``
    advertises Debian's plain-text list, without AUTH=PLAIN, so LOGIN is all a client can use.
    """

    name = "courier"

    def __init__(self, *, auth_plain: bool = True):
        self.auth_plain = auth_plain
        self.unpacked = unpacked_root()
        self.root = Path(tempfile.mkdtemp(prefix="mcs-courier-"))
        self.root.chmod(0o755)
        self.port = free_port()
        self.packages = self.root / "packages"  # the unpacked packages, as the server sees them
        self.etc = self.root / "etc"  # /etc/courier inside the namespace
        self.mail_root = self.root / "mail"
        self.log_file = self.root / "courier.log"
        self._process: subprocess.Popen | None = None
        self._users: dict[str, tuple[MailUser, Path]] = {}
        # imapd runs as the user's uid from userdb: as root, `nobody` owns the maildirs.
        owner = pwd.getpwnam("nobody") if os.geteuid() == 0 else pwd.getpwuid(os.geteuid())
        self._uid, self._gid = owner.pw_uid, owner.pw_gid
        self._stamps: dict[Path, int] = {}  # the mtime given to each maildir folder last

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> CourierServer:
        if not courier_available():
            raise RuntimeError(
                f"Courier is not unpacked in {self.unpacked}: run scripts/install-test-servers"
            )
        for directory in (self.packages, self.etc, self.root / "run/authdaemon", self.mail_root):
            directory.mkdir(parents=True)
        (self.etc / "authdaemonrc").write_text(
            'authmodulelist="authuserdb"\ndaemons=2\nauthdaemonvar=/run/courier/authdaemon\n'
        )
        self._write_userdb()
        if os.geteuid() == 0:
            os.chown(self.mail_root, self._uid, self._gid)
        packages = self.packages
        mounts = [
            bind(self.unpacked, packages),
            *self._mount_over(Path("/etc/courier"), self.etc),
            *self._mount_over(Path("/run/courier"), self.root / "run"),
            *self._mount_over(Path("/usr/lib/courier-authlib"), packages / "usr/lib/courier-authlib"),
            # imapd watches maildirs through gamin, whose library starts /usr/libexec/gam_server.
            f"mount -t overlay overlay -o lowerdir={packages}/usr/libexec:/usr/libexec /usr/libexec",
            f"{packages}/usr/lib/courier/courier-authlib/authdaemond &",
            # Debian's imapd settings, as its init script reads them.
            f"set -a; . {packages}/etc/courier/imapd; IMAP_CAPABILITY={shlex.quote(self.capability)}; set +a",
        ]
        tcpd = [
            f"{packages}/usr/sbin/couriertcpd",
            *(f"-address={self.host}", "-maxprocs=40", "-maxperip=40", "-nodnslookup", "-noidentlookup"),
            str(self.port),
            *(f"{packages}/usr/lib/courier/courier/imaplogin", f"{packages}/usr/bin/imapd", "Maildir"),
        ]
        self._process = subprocess.Popen(
            in_mount_namespace(mounts, tcpd),
            env=unpacked_environment(packages),
            stdin=subprocess.DEVNULL,
            stdout=open(self.log_file, "ab"),  # noqa: SIM115 - the child keeps it
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        # A test run that dies without its cleanup must not leave a server behind.
        atexit.register(self.stop)
        self._wait_until_listening()
        return self

    @property
    def capability(self) -> str:
        return f"{_CAPABILITY} AUTH=PLAIN" if self.auth_plain else _CAPABILITY

    def stop(self) -> None:
        stop_in_namespace(self._process)
        self._process = None
        atexit.unregister(self.stop)
        shutil.rmtree(self.root, ignore_errors=True)

    def _wait_until_listening(self) -> None:
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"courier exited at start:\n{self.log()}")
            # Listening is not enough: the authentication daemon must be up too.
            if (self.root / "run/authdaemon/socket").exists():
                try:
                    with socket.create_connection((self.host, self.port), timeout=1) as sock:
                        sock.settimeout(5)
                        if sock.recv(100).startswith(b"* OK"):
                            return
                except OSError:
                    pass
            time.sleep(0.05)
        raise RuntimeError(f"courier did not listen within 15 s:\n{self.log()}")

    def _mount_over(self, path: Path, source: Path) -> list[str]:
        """Shell lines that show ``source`` at ``path`` inside the namespace. Where ``path`` does
        not exist (Courier is not installed), its parent is first overlaid, read-only, with a
        directory that holds an empty one of that name, to mount on."""
        lines = []
        if not path.is_dir():
            skeleton = self.root / "skeleton" / str(path.parent).strip("/").replace("/", "-")
            (skeleton / path.name).mkdir(parents=True)
            lines.append(f"mount -t overlay overlay -o lowerdir={skeleton}:{path.parent} {path.parent}")
        return [*lines, bind(source, path)]

    # -- users and mail --------------------------------------------------------------------

    def add_user(self, login: str | None = None, password: str | None = None) -> MailUser:
        """Create a user (userdb) with its maildir and the usual folders."""
        login = login or f"user{len(self._users) + 1}-{secrets.token_hex(3)}@example.test"
        password = password or secrets.token_urlsafe(12)
        home = self.mail_root / login
        user = MailUser(login, password, home / "Maildir")
        for folder in ("", *(f".{name}" for name in FOLDERS)):
            for sub in ("cur", "new", "tmp"):
                (user.maildir / folder / sub).mkdir(parents=True, exist_ok=True)
        (user.maildir / "courierimapsubscribed").write_text("".join(f"INBOX.{name}\n" for name in FOLDERS))
        self._give_to_mail_owner(home)
        self._users[login] = (user, home)
        self._write_userdb()
        return user

    def deliver(
        self,
        user: MailUser,
        message: bytes,
        folder: str = "INBOX",
        flags: str = "",
        when: float | None = None,
    ) -> Path:
        """Drop a message into a maildir folder, as a delivery agent does.

        ``folder`` is given as on Dovecot ("Sent"; "INBOX.Sent" works too), ``flags`` as maildir
        letters (``S`` for \\Seen), ``when`` the arrival time (INTERNALDATE) as a Unix timestamp.
        """
        imap_name = self.folder(folder)
        directory = user.maildir if imap_name.upper() == "INBOX" else user.maildir / imap_name[len("INBOX") :]
        if not (directory / "cur").is_dir():
            for sub in ("cur", "new", "tmp"):
                (directory / sub).mkdir(parents=True, exist_ok=True)
            (directory / "maildirfolder").touch()
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
        self._mark_changed(target.parent)
        return target

    def _mark_changed(self, directory: Path) -> None:
        """Give the folder a modification time of a second of its own. Courier rescans a maildir
        only when its mtime changed, in whole seconds: two changes within one second (a delivery
        right after a scan) would go unseen until the next one, as no delivery agent makes them."""
        stamp = max(int(time.time()), self._stamps.get(directory, 0) + 1)
        self._stamps[directory] = stamp
        os.utime(directory, (stamp, stamp))

    def _write_userdb(self) -> None:
        """userdb.dat and userdbshadow.dat, as Courier's makeuserdb builds them (makedatprog)."""
        accounts, passwords = [], []
        for login, (user, home) in self._users.items():
            accounts.append(f"{login}\tuid={self._uid}|gid={self._gid}|home={home}|mail={user.maildir}\n")
            digest = base64.b64encode(hashlib.sha256(user.password.encode()).digest()).decode()
            passwords.append(f"{login}\tsystempw={{SHA256}}{digest}\n")
        self._makedat("userdb", accounts)
        self._makedat("userdbshadow", passwords)
        (self.etc / "userdbshadow.dat").chmod(0o600)

    def _makedat(self, name: str, lines: list[str]) -> None:
        subprocess.run(
            [
                str(self.unpacked / "usr/lib/courier/courier-authlib/makedatprog"),
                *("-", str(self.etc / f"{name}.tmp"), str(self.etc / f"{name}.dat")),
            ],
            input=("".join(lines) + ".\n").encode(),
            env=unpacked_environment(self.unpacked),
            check=True,
            capture_output=True,
        )

    def _give_to_mail_owner(self, directory: Path) -> None:
        if os.geteuid() != 0:
            return
        for path in (directory, *directory.rglob("*")):
            os.lchown(path, self._uid, self._gid)
