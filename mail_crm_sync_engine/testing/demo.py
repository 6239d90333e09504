"""The main job on a built-in default: a local Dovecot with a demo mailbox, seen through the CLI.

    python -m mail_crm_sync_engine.testing.demo [--corpus DIR]

Starts a private Dovecot on loopback, fills a mailbox with the demo's mail (``demo_mailbox``: threads,
HTML, attachments, non-ASCII, strangers, Sent, Junk, old mail; plus every .eml of DIR, by default
../shared/corpora/dev when it exists), then runs `mail-crm-sync check` and `mail-crm-sync dump
--limit 5` on it, as an administrator would. `scripts/demo` shows the same mail inside Odoo.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

from .demo_mail_texts import SALLY
from .demo_mailbox import demo_mailboxes
from .dovecot import DovecotServer

_DEFAULT_CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpora" / "dev"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=_DEFAULT_CORPUS, help="a folder of .eml files to add")
    args = parser.parse_args(argv)
    with DovecotServer() as server:
        user = server.add_user(SALLY.email)
        mailbox = demo_mailboxes()[SALLY]
        for mail in mailbox:
            server.deliver(user, mail.raw, folder=mail.folder, when=mail.date.timestamp())
        corpus = sorted(args.corpus.glob("*.eml")) if args.corpus.is_dir() else []
        for path in corpus:
            server.deliver(user, path.read_bytes(), folder="INBOX")
        count = len(corpus) + len(mailbox)
        print(f"Demo mailbox {user.login} on {server.host}:{server.port}: {count} messages", flush=True)
        env = {**os.environ, "MAIL_CRM_SYNC_PASSWORD": user.password}
        common = ["--host", server.host, "--port", str(server.port), "--security", "starttls", "--insecure"]
        common += ["--user", user.login]
        cli = [sys.executable, "-m", "mail_crm_sync_engine"]
        steps = [[*cli, "check", *common], [*cli, "dump", *common, "--folder", "INBOX", "--limit", "5"]]
        for step in steps:
            print("$ mail-crm-sync " + " ".join(step[3:]), flush=True)
            result = subprocess.run(step, env=env, check=False)
            if result.returncode:
                return result.returncode
    return 0


if __name__ == "__main__":
    sys.exit(main())
