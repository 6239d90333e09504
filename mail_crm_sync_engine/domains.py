"""Mail domains that say nothing of a company: free-mail providers and disposable (throwaway) ones.

The lists are data files of this package (``data/free_mail_domains.txt``,
``data/disposable_mail_domains.txt``), kept up to date from the public lists their headers name;
each is read once, when first asked for.
"""

from functools import cache
from importlib import resources


def _read_domains(name: str) -> frozenset[str]:
    text = resources.files(__package__).joinpath("data", name).read_text(encoding="utf-8")
    return frozenset(
        line.strip().lower() for line in text.splitlines() if line.strip() and not line.startswith("#")
    )


@cache
def free_mail_domains() -> frozenset[str]:
    """Domains of free-mail providers (gmail.com, gmx.de, ...)."""
    return _read_domains("free_mail_domains.txt")


@cache
def disposable_mail_domains() -> frozenset[str]:
    """Domains of throwaway addresses (mailinator.com, ...)."""
    return _read_domains("disposable_mail_domains.txt")


@cache
def public_mail_domains() -> frozenset[str]:
    """Both lists: domains anyone may have an address at."""
    return free_mail_domains() | disposable_mail_domains()


def mail_domain(address: str) -> str:
    """The lowercase domain of an address ('' when it has none)."""
    _local, at, domain = address.rpartition("@")
    return domain.strip().strip(">").rstrip(".").lower() if at else ""


def is_public_mail_domain(domain: str) -> bool:
    """Whether anyone may have an address at ``domain`` (free mail or disposable), so that an
    address there says nothing of the company its owner works for."""
    return domain.strip().rstrip(".").lower() in public_mail_domains()
