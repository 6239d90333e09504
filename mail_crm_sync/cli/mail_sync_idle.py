import logging
import signal
import sys
import threading
from pathlib import Path

import odoo
from odoo.cli.command import Command
from odoo.modules.registry import Registry

from ..models.inbox_watch_service import InboxWatchService

_logger = logging.getLogger(__name__)


class MailSyncIdle(Command):
    """Watch the INBOX of primary mail accounts with IDLE (CRM Email Sync's Instant Inbox)"""

    name = "mail_sync_idle"

    def run(self, args):
        parser = odoo.tools.config.parser
        parser.prog = f"{Path(sys.argv[0]).name} {self.name}"
        odoo.tools.config.parse_config(args, setup_logging=True)
        db_name = odoo.tools.config["db_name"]
        if not db_name or "," in db_name:
            sys.exit("mail_sync_idle watches one database: give it with -d (one process per database).")
        stop = threading.Event()
        for number in (signal.SIGINT, signal.SIGTERM):
            signal.signal(number, lambda *_args: stop.set())
        InboxWatchService(Registry(db_name)).run(stop)
