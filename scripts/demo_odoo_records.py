"""The demo's Odoo records: two salesmen, their customers and opportunities, their mail accounts.

Used by ``scripts/demo_odoo.py`` in the demo's venv (Odoo from the host's packages), on a fresh
database with mail_crm_sync installed. The people come from the engine's demo mail
(``mail_crm_sync_engine.testing.demo_mail_texts``), so that the synced mail finds its contacts.
"""

from __future__ import annotations

import datetime
import logging
from dataclasses import dataclass

from odoo import Command

from mail_crm_sync_engine.testing import MailUser
from mail_crm_sync_engine.testing.demo_mail_texts import (
    ANKE,
    CUSTOMERS,
    JUERGEN,
    LEA,
    MISAKI,
    OTTO,
    PRIYA,
    SALLY,
    TOM,
    Person,
)

_logger = logging.getLogger(__name__)

# The salesmen's logins, which are also their passwords.
LOGINS = {SALLY: "sally", OTTO: "otto"}
ADMIN_PASSWORD = "admin"
UNASSIGNED_PATH = "unassigned-emails"

COMPANIES = {
    "Zöllner Möbelwerk GmbH": ("info@zoellner-moebel.example", "Köln", "base.de"),
    "Atelier Dubois & Fils": ("contact@atelier-dubois.example", "Lyon", "base.fr"),
    "Northwind Traders": ("hello@northwind.example", "Leeds", "base.uk"),
    "さくらオフィス株式会社": ("info@sakura-office.example", "東京", "base.jp"),
}
JOBS = {
    JUERGEN: "Head of Purchasing",
    ANKE: "Office Manager",
    LEA: "Gérante",
    PRIYA: "Facilities Manager",
    TOM: "Project Lead",
    MISAKI: "総務部",
}
# (salesman, customer, opportunity, expected revenue); the first is the one to look at first.
OPPORTUNITIES = (
    (SALLY, JUERGEN, "40 height-adjustable desks", 27048),
    (SALLY, LEA, "Showroom chairs for Lyon", 6400),
    (OTTO, PRIYA, "Reception area, Leeds office", 15800),
    (OTTO, MISAKI, "Meeting room for twelve, Tokyo", 9200),
)


@dataclass(frozen=True, slots=True)
class MailServers:
    """Where the salesmen's mail is read (the demo's Dovecot) and sent (its aiosmtpd), on loopback."""

    imap_host: str
    imap_port: int
    smtp_host: str
    smtp_port: int


@dataclass(frozen=True, slots=True)
class DemoRecords:
    """What the demo created and points the user at."""

    account_ids: dict[Person, int]
    contact_id: int
    opportunity_id: int
    crm_menu_id: int


@dataclass(frozen=True, slots=True)
class SyncFigures:
    """What the first sync brought, as the demo reports it."""

    accounts: dict[Person, tuple[int, int]]  # emails downloaded, of which assigned
    emails: int  # stored, each once however many mailboxes hold it
    unassigned: int
    contact: tuple[str, int]  # name, emails
    opportunity: tuple[str, int]
    window_start: datetime.date  # of the first sync: older mail stays on the server
    errors: tuple[str, ...]


def create_demo_records(env, servers: MailServers, mailboxes: dict[Person, MailUser]):
    """Users, contacts, opportunities and connected mail accounts that send too (folders listed, none
    synced yet)."""
    _keep_to_loopback(env)
    env.ref("base.user_admin").password = ADMIN_PASSWORD
    users = {salesman: _create_salesman(env, salesman) for salesman in LOGINS}
    contacts = _create_customers(env)
    # Assigned, as a manager would assign them, without OdooBot telling each salesman so on every page.
    leads = [
        env["crm.lead"]
        .with_context(mail_auto_subscribe_no_notify=True)
        .create(
            {
                "name": name,
                "type": "opportunity",
                "partner_id": contacts[customer].id,
                "user_id": users[salesman].id,
                "expected_revenue": revenue,
            }
        )
        for salesman, customer, name, revenue in OPPORTUNITIES
    ]
    _create_unassigned_action(env)
    accounts = {
        salesman: _connect_account(env, users[salesman], mailboxes[salesman], servers) for salesman in LOGINS
    }
    _logger.info(
        "Created users %s, %s contacts in %s companies, %s opportunities, and connected %s mail accounts",
        ", ".join(LOGINS.values()),
        len(contacts),
        len(COMPANIES),
        len(leads),
        len(accounts),
    )
    return DemoRecords(
        account_ids={salesman: account.id for salesman, account in accounts.items()},
        contact_id=contacts[OPPORTUNITIES[0][1]].id,
        opportunity_id=leads[0].id,
        crm_menu_id=env.ref("crm.crm_menu_root").id,
    )


def sync_figures(env, records: DemoRecords) -> SyncFigures:
    accounts = {
        salesman: env["mail.sync.account"].browse(account_id)
        for salesman, account_id in records.account_ids.items()
    }
    contact = env["res.partner"].browse(records.contact_id)
    opportunity = env["crm.lead"].browse(records.opportunity_id)
    messages = env["mail.sync.message"]
    return SyncFigures(
        accounts={salesman: (a.message_count, a.assigned_count) for salesman, a in accounts.items()},
        emails=messages.search_count([]),
        unassigned=messages.search_count([("is_assigned", "=", False)]),
        contact=(contact.name, contact.mail_sync_message_count),
        opportunity=(opportunity.name, opportunity.mail_sync_message_count),
        window_start=next(iter(accounts.values()))._window_start(),
        errors=tuple(a.last_error for a in accounts.values() if a.last_error),
    )


def _keep_to_loopback(env):
    """Turn off every scheduled action but the addon's: several call Odoo's servers (IAP lead
    enrichment, partner autocomplete, the publisher's update notification, snailmail), and the
    demo talks to nothing outside loopback."""
    own = env["ir.model.data"].search([("model", "=", "ir.cron"), ("module", "=", "mail_crm_sync")])
    others = env["ir.cron"].search([("id", "not in", own.mapped("res_id"))])
    others.active = False
    _logger.info("Turned off %s scheduled actions other than Mail CRM Sync's", len(others))


def _create_salesman(env, salesman: Person):
    login = LOGINS[salesman]
    return (
        env["res.users"]
        .with_context(no_reset_password=True)
        .create(
            {
                "name": salesman.name,
                "login": login,
                "password": login,
                "email": salesman.email,
                "tz": "Europe/Berlin",
                "notification_type": "inbox",
                "groups_id": [
                    Command.set([env.ref("base.group_user").id, env.ref("sales_team.group_sale_salesman").id])
                ],
            }
        )
    )


def _create_customers(env):
    """The customers as contacts of their companies; the strangers stay unknown."""
    companies = {
        name: env["res.partner"].create(
            {
                "name": name,
                "is_company": True,
                "email": email,
                "city": city,
                "country_id": env.ref(country).id,
            }
        )
        for name, (email, city, country) in COMPANIES.items()
    }
    return {
        person: env["res.partner"].create(
            {
                "name": person.name,
                "email": person.email,
                "parent_id": companies[person.company].id,
                "function": JOBS[person],
            }
        )
        for person in CUSTOMERS
    }


def _create_unassigned_action(env):
    """The addon's Emails list opened on its Unassigned filter, at a URL of its own (/odoo/<path>)."""
    env.ref("mail_crm_sync.mail_sync_message_action").copy(
        {
            "name": "Unassigned Emails",
            "path": UNASSIGNED_PATH,
            "context": "{'search_default_filter_unassigned': 1}",
        }
    )


def _connect_account(env, user, mailbox: MailUser, servers: MailServers):
    """The salesman's own account, created as he would in his preferences, then connection-tested:
    that lists the server's folders and makes Inbox and Sent the synced ones. Sending goes through the
    demo's SMTP server with the mailbox's own login and password, so the Outgoing tab's SMTP Login
    and SMTP Password stay empty, as their help says."""
    account = (
        env["mail.sync.account"]
        .with_user(user)
        .create(
            {
                "name": f"{user.name}'s mailbox",
                "email": mailbox.email,
                "user_id": user.id,
                "imap_host": servers.imap_host,
                "imap_port": servers.imap_port,
                "imap_security": "none",
                "password": mailbox.password,
                "smtp_host": servers.smtp_host,
                "smtp_port": servers.smtp_port,
                "smtp_security": "none",
                "sending_enabled": True,
            }
        )
        .sudo()
    )
    account.action_test_connection()
    return account
