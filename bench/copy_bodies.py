"""How the bodies of a batch of new emails reach PostgreSQL: in the INSERT, or by a binary COPY.

    ~/odoo18/venv/bin/python bench/copy_bodies.py [--batches 12] [--batch-size 500] [--seed 1]

The emails' INSERT of a first sync (mail.sync.message._insert_messages) carries each batch's text
and HTML bodies: some 9 MB for 500 emails of people who write a lot. This compares, on the same
mail, the two ways of handing them over:

- "in the INSERT" (the sync until 18.0.1.5.0): one array of bodies per column, quoted by psycopg2
  into the statement, then scanned by PostgreSQL's lexer and parsed as an array;
- "binary COPY": the bodies' UTF-8 as it is, encoded by the sync's own function
  (``mail_sync_message.bodies_copy_data``) and COPY'd into a temporary table (uncompressed), which
  the INSERT empties as it joins it by row number, as the sync does now.

The mail is the text-heavy mailbox of bench/odoo_sync.py (bench/realistic_mail.TEXT_HEAVY: text
parts over 1-20 KB, 60 % with HTML), parsed by the engine. Each batch goes into a table shaped
like the emails' (unique Message-ID, bodies compressed with lz4 where the server has it) in a
database made for the run and dropped after it; the two ways alternate, batch by batch. Printed
per way: the median over the batches (the first two of each left out, as warm-up) of the time
spent in Python (quoting, or encoding) and of the time PostgreSQL took to answer, in ms.
Figures only: nothing here asserts a speed.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

import psycopg2  # noqa: E402

from bench.odoo_host import configure  # noqa: E402
from bench.realistic_mail import TEXT_HEAVY, RealisticMailbox  # noqa: E402
from mail_crm_sync_engine import Place, record_from_bytes  # noqa: E402

TABLE = """CREATE TABLE emails (id serial PRIMARY KEY, message_id varchar UNIQUE, subject varchar,
                                 body_text text, body_html_source text)"""
INSERT = """INSERT INTO emails (message_id, subject, body_text, body_html_source)
            SELECT * FROM unnest(%s::varchar[], %s::varchar[], %s::text[], %s::text[])
            ON CONFLICT (message_id) DO NOTHING RETURNING message_id"""
STAGE = """CREATE TEMPORARY TABLE bodies (staged_row int8, body_text text, body_html_source text)
           ON COMMIT DELETE ROWS;
           ALTER TABLE bodies ALTER body_text SET STORAGE EXTERNAL,
                              ALTER body_html_source SET STORAGE EXTERNAL"""
INSERT_STAGED = """WITH staged AS (DELETE FROM bodies RETURNING staged_row, body_text, body_html_source)
                   INSERT INTO emails (message_id, subject, body_text, body_html_source)
                   SELECT t.message_id, t.subject, b.body_text, b.body_html_source
                     FROM unnest(%s::varchar[], %s::varchar[])
                          WITH ORDINALITY AS t(message_id, subject, staged_row)
                     JOIN staged b ON b.staged_row = t.staged_row
                   ON CONFLICT (message_id) DO NOTHING RETURNING message_id"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--batches", type=int, default=12)
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    configure(Path(f"/tmp/mcs_copy_bodies_{os.getpid()}.log"))  # the addons path, for the sync's encoding
    print(f"Parsing {args.batches * args.batch_size} text-heavy emails...", flush=True)
    mailbox = RealisticMailbox(
        args.batches * args.batch_size, args.seed, folders=("INBOX",), style=TEXT_HEAVY
    )
    records = [
        record_from_bytes(raw, Place("INBOX", uid, 1)) for uid, raw in enumerate(mailbox.raw_messages(), 1)
    ]
    batches = [records[start : start + args.batch_size] for start in range(0, len(records), args.batch_size)]
    database = f"mcs_copy_bodies_{os.getpid()}"
    admin = psycopg2.connect(dbname="postgres")
    admin.autocommit = True
    admin.cursor().execute(f"CREATE DATABASE {database}")
    try:
        conn = psycopg2.connect(dbname=database)
        cr = conn.cursor()
        cr.execute(
            "SELECT 1 FROM pg_settings WHERE name = 'default_toast_compression' AND 'lz4' = ANY(enumvals)"
        )
        compression = " COMPRESSION lz4" if cr.fetchone() else ""
        cr.execute(
            TABLE.replace("body_text text", f"body_text text{compression}").replace(
                "body_html_source text)", f"body_html_source text{compression})"
            )
        )
        cr.execute(STAGE)
        conn.commit()
        ways = {"in the INSERT": _in_insert, "binary COPY": _by_copy}
        timings: dict[str, list[tuple[float, float]]] = {name: [] for name in ways}
        for number, batch in enumerate(batches):
            order = list(ways) if number % 2 == 0 else list(reversed(ways))
            # each way stores every batch once: under Message-IDs of its own
            for name in order:
                timings[name].append(ways[name](cr, batch, name))
                conn.commit()
        megabytes = statistics.mean(
            sum(len((r.text or "").encode()) + len((r.html or "").encode()) for r in batch) / 1e6
            for batch in batches
        )
        print(
            f"{len(batches)} batches of {args.batch_size} emails, {megabytes:.1f} MB of bodies a batch (mean)"
        )
        for name, figures in timings.items():
            kept = figures[2:] or figures
            python = statistics.median(p for p, _ in kept)
            server = statistics.median(s for _, s in kept)
            total = statistics.median(p + s for p, s in kept)
            print(f"  {name:14}: Python {python:6.1f} ms, PostgreSQL {server:6.1f} ms, both {total:6.1f} ms")
        conn.close()
    finally:
        admin.cursor().execute(f"DROP DATABASE IF EXISTS {database}")
        admin.close()


def _columns(batch, name):
    return [f"{name}:{r.message_id}" for r in batch], [r.subject or "" for r in batch]


def _in_insert(cr, batch, name):
    start = time.perf_counter()
    ids, subjects = _columns(batch, name)
    texts = [(r.text or "").replace("\x00", "") for r in batch]
    htmls = [r.html.replace("\x00", "") if r.html else None for r in batch]
    statement = cr.mogrify(INSERT, (ids, subjects, texts, htmls))
    quoted = time.perf_counter()
    cr.execute(statement)
    cr.fetchall()
    return (quoted - start) * 1000, (time.perf_counter() - quoted) * 1000


def _by_copy(cr, batch, name):
    from odoo.addons.mail_crm_sync.models.mail_sync_message import bodies_copy_data  # noqa: PLC0415

    start = time.perf_counter()
    ids, subjects = _columns(batch, name)
    data = io.BytesIO(bodies_copy_data(batch))
    statement = cr.mogrify(INSERT_STAGED, (ids, subjects))
    encoded = time.perf_counter()
    cr.copy_expert("COPY bodies FROM STDIN (FORMAT binary)", data, size=1 << 20)
    cr.execute(statement)
    cr.fetchall()
    return (encoded - start) * 1000, (time.perf_counter() - encoded) * 1000


if __name__ == "__main__":
    main()
