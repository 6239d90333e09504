"""TLS for every connection the engine opens (IMAP and SMTP)."""

from __future__ import annotations

import functools
import ssl


@functools.lru_cache(maxsize=2)
def client_context(verify_certificate: bool) -> ssl.SSLContext:
    """One context per process and setting: loading the system's certificate authorities takes
    about 30 ms, which every poll of every account paid when it was made per connection."""
    context = ssl.create_default_context()
    if not verify_certificate:
        # The user's explicit, per-account opt-in for self-signed or expired certificates.
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context
