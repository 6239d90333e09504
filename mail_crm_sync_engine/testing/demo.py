"""The main job on a built-in default: a local Dovecot with a demo mailbox, seen through the CLI.

    python -m mail_crm_sync_engine.testing.demo [--corpus DIR]

Starts a private Dovecot on loopback, fills a mailbox with varied mail (plain, HTML, attachments,
non-ASCII; plus every .eml of DIR, by default ../shared/corpora/dev when it exists), then runs
`mail-crm-sync check` and `mail-crm-sync dump --limit 5` on it, as an administrator would.
"""

from __future__ import annotations

import argparse
import datetime
import email.utils
import os
import subprocess
import sys
from pathlib import Path

from .dovecot import DovecotServer
from .mail import build_mail

_DEFAULT_CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpora" / "dev"


def demo_messages(me: str) -> list[tuple[str, bytes]]:
    """A small, varied mailbox: (folder, raw message)."""
    messages = []
    samples = [
        (
            "Zoë Martin <zoe@client.example>",
            me,
            "Devis n°42 — révision",
            "Bonjour,\nvoici le devis révisé.",
            None,
            None,
        ),
        (
            "Hans Müller <hans@kunde.example>",
            me,
            "Angebot für Q3",
            "Guten Tag,\nanbei das Angebot.",
            "<p>Guten <b>Tag</b></p>",
            None,
        ),
        ("田中 <tanaka@client.example>", me, "見積もりの件", None, "<p>よろしくお願いします。</p>", None),
        (
            "Billing <noreply@vendor.example>",
            me,
            "Invoice 2026-11",
            "Your invoice is attached.",
            None,
            ("facture_novembre.pdf", "application/pdf", b"%PDF-1.4\n" + b"0" * 40_000),
        ),
        (
            me,
            "Zoë Martin <zoe@client.example>",
            "Re: Devis n°42 — révision",
            "Merci Zoë, c'est validé.",
            None,
            None,
        ),
    ]
    now = datetime.datetime.now(datetime.UTC)
    for index, (sender, to, subject, text, html, attachment) in enumerate(samples):
        raw = build_mail(
            sender=sender,
            to=to,
            subject=subject,
            text=text or "",
            html=html,
            attachments=(attachment,) if attachment else (),
            message_id=email.utils.make_msgid(domain="demo.example"),
            date=now - datetime.timedelta(hours=index),
        )
        messages.append(("Sent" if sender == me else "INBOX", raw))
    return messages


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=_DEFAULT_CORPUS, help="a folder of .eml files to add")
    args = parser.parse_args(argv)
    with DovecotServer() as server:
        user = server.add_user("demo@example.test")
        for folder, raw in demo_messages(user.email):
            server.deliver(user, raw, folder=folder)
        corpus = sorted(args.corpus.glob("*.eml")) if args.corpus.is_dir() else []
        for path in corpus:
            server.deliver(user, path.read_bytes(), folder="INBOX")
        print(
            f"Demo mailbox {user.login} on {server.host}:{server.port}: {len(corpus) + 5} messages",
            flush=True,
        )
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
