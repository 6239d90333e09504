"""The shipped lists of domains that say nothing of a company."""

from mail_crm_sync_engine import is_public_mail_domain, mail_domain, public_mail_domains
from mail_crm_sync_engine.domains import disposable_mail_domains, free_mail_domains


def test_free_mail_and_disposable_domains_are_public():
    for domain in (
        "gmail.com",
        "GMail.com",
        "gmx.de",
        "outlook.com",
        "yahoo.co.uk",
        "sfr.fr",
        "mailinator.com",
    ):
        assert is_public_mail_domain(domain), domain


def test_company_domains_are_not_public():
    for domain in ("acme-tools.example", "odoo.com", "microsoft.com", "mail.gmail.com.acme.example", ""):
        assert not is_public_mail_domain(domain), domain


def test_the_lists_are_lowercase_domains_without_comments():
    assert len(free_mail_domains()) > 300
    assert len(disposable_mail_domains()) > 1000
    assert not free_mail_domains() & disposable_mail_domains()
    for domain in public_mail_domains():
        assert domain == domain.lower().strip()
        assert "." in domain
        assert not domain.startswith("#")


def test_mail_domain_of_an_address():
    assert mail_domain("Dora@Acme-Tools.example") == "acme-tools.example"
    assert mail_domain("dora@acme.example.") == "acme.example"
    assert mail_domain("no address") == ""
