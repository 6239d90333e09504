"""``python -m mail_crm_sync_engine``: the same as the ``mail-crm-sync`` command."""

import sys

from .cli import main

sys.exit(main())
