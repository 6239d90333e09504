"""The production-mode tier of the addon's tests (DESIGN.md, "Two tiers of Odoo tests").

In Odoo's test mode every cursor of a test shares one transaction, so whatever depends on commits,
locks, retries or counts made across cursors looks right there even when it is wrong in production.
A test class based on ``ProductionCase`` gets, once per class:

- a database copied from the host's template, with mail_crm_sync installed by ``odoo-bin -i``;
- a real ``odoo-bin`` serving it with HTTP workers and cron workers on a free loopback port, its log
  in a file, as an administrator runs one (``start_server`` adds another on the same database, as a
  second machine would; ``restart`` starts them again with other options);
- a private Dovecot for the mailboxes;
- ``pg_dump()``: the database as a backup holds it;
- clients that sign in over HTTP as the web client does (``OdooSession``), and ``sql()``, a
  PostgreSQL connection of the test's own: a test checks through these, never through the test's
  cursor, which is not even on that database.

Everything is found from the running test process, under ``odoo-bin --test-enable`` as under
pytest-odoo: ``odoo.tools.config`` (addons path, database settings, data directory), the Python that
runs it (``sys.executable``) and the ``odoo-bin`` next to the ``odoo`` package. The template is the
first database that exists among ``$MAIL_CRM_SYNC_TEMPLATE_DB``, the configured ``db_template`` (when
it is not PostgreSQL's own) and ``crm18`` (the host's, see ODOO_HOST.md); without one, the copy is
made from PostgreSQL's template and ``-i`` installs crm as well (slower).
"""

import atexit
import contextlib
import logging
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import odoo
import passlib.hash
import psycopg2
import psycopg2.errors
import requests
from odoo.sql_db import connection_info_for
from odoo.tests import BaseCase
from odoo.tools import config

from mail_crm_sync_engine.testing import DovecotServer, free_port

_logger = logging.getLogger(__name__)

TEMPLATE_ENV = "MAIL_CRM_SYNC_TEMPLATE_DB"
HOST_TEMPLATE = "crm18"
DATABASE_PREFIX = "mcs_production"
POSTGRES_TEMPLATES = ("template0", "template1")
# Options of the test process that the server must share: where addons and files are, how to reach
# PostgreSQL, and the addon's own (the encryption key of stored passwords).
SHARED_OPTIONS = ("addons_path", "data_dir", "db_host", "db_port", "db_user", "db_password", "db_sslmode")
ADDON_OPTION_PREFIX = "mail_crm_sync"
# Generous: the machines that run these tests have two cores shared with other test runs.
INSTALL_TIMEOUT = 600
START_TIMEOUT = 180
STOP_TIMEOUT = 30
REQUEST_TIMEOUT = 300
# free_port() only says that a port was free: another process may take it before odoo-bin binds it.
PORT_ATTEMPTS = 3


def wait_until(condition, timeout, what):
    """Poll ``condition`` until it returns something true, and return that; fail after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not within {timeout} s")
        time.sleep(0.2)


def odoo_bin():
    """How to run this Odoo's odoo-bin with the Python that runs the tests; where setpriv is (Linux),
    the process gets SIGTERM when the test process dies, even if killed before its cleanup."""
    script = Path(odoo.__file__).resolve().parents[1] / "odoo-bin"
    # An Odoo installed as a package has no odoo-bin beside it.
    command = [sys.executable, str(script)] if script.is_file() else [sys.executable, "-m", "odoo"]
    setpriv = shutil.which("setpriv")
    return [setpriv, "--pdeathsig", "TERM", "--", *command] if setpriv else command


def pg_connect(database):
    """A connection of our own to ``database``, with the test process's settings; autocommit."""
    _name, info = connection_info_for(database)
    connection = psycopg2.connect(**{**info, "application_name": "mail_crm_sync production tests"})
    connection.autocommit = True
    return connection


def process_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def tail(path, lines=60):
    if not path.exists():
        return ""
    return "".join(path.read_text(errors="replace").splitlines(keepends=True)[-lines:])


class ServerExited(RuntimeError):
    """odoo-bin stopped while it was expected to serve."""


class RpcError(Exception):
    """An error the server answered a JSON-RPC call with: what a user would see, and the traceback."""

    def __init__(self, error):
        data = error.get("data") or {}
        self.name = data.get("name") or ""
        self.message = data.get("message") or error.get("message") or ""
        self.debug = data.get("debug") or ""
        super().__init__(
            f"{self.name}: {self.message}"
            + (f"\nThe server's traceback:\n{self.debug}" if self.debug else "")
        )


class OdooSession:
    """One user of the server, signed in as the web client signs in (``/web/session/authenticate``,
    a session cookie), calling models as the web client does; ``execute`` is the external API
    (``/jsonrpc``, service ``object``) with the login and password instead."""

    def __init__(self, url, database, login, password):
        self.url, self.database, self.login, self.password = url, database, login, password
        self.http = requests.Session()
        info = self._post("/web/session/authenticate", {"db": database, "login": login, "password": password})
        self.uid = info["uid"]
        self.context = info["user_context"]

    def _post(self, path, params):
        payload = {"jsonrpc": "2.0", "method": "call", "params": params, "id": secrets.randbelow(10**9)}
        response = self.http.post(self.url + path, json=payload, timeout=REQUEST_TIMEOUT)
        response.raise_for_status()
        answer = response.json()
        if "error" in answer:
            raise RpcError(answer["error"])
        return answer["result"]

    def call(self, model, method, *args, **kwargs):
        """A model method as the web client calls it (``/web/dataset/call_kw``), in the user's context."""
        kwargs.setdefault("context", self.context)
        return self._post(
            f"/web/dataset/call_kw/{model}/{method}",
            {"model": model, "method": method, "args": list(args), "kwargs": kwargs},
        )

    def button(self, model, method, ids, **kwargs):
        """A button of a form or list (``/web/dataset/call_button``): the action it answers, or False."""
        kwargs.setdefault("context", self.context)
        return self._post(
            f"/web/dataset/call_button/{model}/{method}",
            {"model": model, "method": method, "args": [list(ids)], "kwargs": kwargs},
        )

    def execute(self, model, method, *args, **kwargs):
        """The external API: ``execute_kw`` of service ``object`` over ``/jsonrpc``."""
        return self._post(
            "/jsonrpc",
            {
                "service": "object",
                "method": "execute_kw",
                "args": [self.database, self.uid, self.password, model, method, list(args), kwargs],
            },
        )


class ProductionOdoo:
    """A database copy with mail_crm_sync installed, served by a real ``odoo-bin`` with workers.

    ``held_crons``: XML ids of scheduled actions that run only when a test runs them, so that their
    schedule cannot act between two steps of a test (pushed a year ahead before the server starts);
    every other scheduled action runs in the cron workers as it would in production.
    """

    def __init__(self, *, workers=2, cron_workers=2, held_crons=(), options=None):
        self.workers = workers
        self.cron_workers = cron_workers
        self.held_crons = tuple(held_crons)
        # Server options besides the test process's: a value of None drops one it has.
        self.options = dict(options or {})
        self.database = f"{DATABASE_PREFIX}_{os.getpid()}_{secrets.token_hex(3)}"
        self.workdir = Path(tempfile.mkdtemp(prefix="mcs-production-"))
        self.config_file = self.workdir / "odoo.conf"
        self.install_log = self.workdir / "install.log"
        self.servers = []  # the first is the one ``url`` and ``log_lines`` are about
        self.admin_login = None
        self.admin_password = secrets.token_urlsafe(12)
        self.keep_logs = False  # set when a test failed: its server's log is what to read
        self._created = False
        self._sql = None

    @property
    def server(self):
        return self.servers[0]

    @property
    def url(self):
        return self.server.url

    @property
    def port(self):
        return self.server.port

    @property
    def process(self):
        return self.server.process

    @property
    def server_log(self):
        return self.server.log

    # -- lifecycle --------------------------------------------------------------------------------

    def start(self):
        """Create, install, start and wait until the server answers; undo everything on failure."""
        atexit.register(self.stop)  # a test run that dies without its cleanup leaves nothing behind
        started = time.monotonic()
        try:
            self._write_config()
            template = self._create_database()
            self._run(["-i", "mail_crm_sync", "--stop-after-init", "--no-http"], self.install_log)
            installed = time.monotonic()
            self._sql = pg_connect(self.database)
            self._prepare()
            self.start_server()
        except BaseException:
            self.keep_logs = True
            self.stop()
            raise
        _logger.info(
            "Production-mode Odoo on %s, database %s (copy of %s): installed in %.0f s, serving after "
            "%.0f s; logs in %s",
            self.url,
            self.database,
            template,
            installed - started,
            time.monotonic() - started,
            self.workdir,
        )
        return self

    def stop(self):
        """Stop the server (SIGTERM, then SIGKILL for its whole process group), drop the database."""
        atexit.unregister(self.stop)
        self.stop_servers()
        if self._sql is not None:
            self._sql.close()
            self._sql = None
        if self._created:
            with contextlib.closing(pg_connect("postgres")) as connection:
                connection.cursor().execute(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')
            shutil.rmtree(config.filestore(self.database), ignore_errors=True)
            self._created = False
        self.config_file.unlink(missing_ok=True)  # it holds the database password, if any
        if self.keep_logs:
            _logger.info("Logs of the production-mode Odoo kept in %s", self.workdir)
        else:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def _write_config(self):
        """The test process's settings that the server needs, in a file of its own (not its command
        line, where ``ps`` would show a database password)."""
        options = {name: config[name] for name in SHARED_OPTIONS if config.get(name)}
        options.update(
            (name, value)
            for name, value in config.options.items()
            if name.startswith(ADDON_OPTION_PREFIX) and value
        )
        options.update(self.options)
        self.config_file.touch(mode=0o600)
        self.config_file.write_text(
            "[options]\n"
            + "".join(f"{name} = {value}\n" for name, value in options.items() if value is not None)
        )

    def _create_database(self):
        with contextlib.closing(pg_connect("postgres")) as connection:
            cursor = connection.cursor()
            self._drop_leftovers(cursor)
            candidates = [
                os.environ.get(TEMPLATE_ENV),
                config.get("db_template") if config.get("db_template") not in POSTGRES_TEMPLATES else None,
                HOST_TEMPLATE,
            ]
            cursor.execute(
                "SELECT datname FROM pg_database WHERE datname = ANY(%s)",
                [[name for name in candidates if name]],
            )
            found = {name for (name,) in cursor.fetchall()}
            template = next(
                (name for name in candidates if name in found), config.get("db_template") or "template0"
            )
            deadline = time.monotonic() + 60
            while True:
                try:
                    cursor.execute(f'CREATE DATABASE "{self.database}" TEMPLATE "{template}"')
                    break
                except psycopg2.errors.ObjectInUse:
                    # Someone is connected to the template for a moment (another createdb -T): retry.
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(1)
        self._created = True
        return template

    @staticmethod
    def _drop_leftovers(cursor):
        """Databases of earlier runs whose test process is gone: killed before its cleanup could run
        (its server got SIGTERM then). One still in use is left alone."""
        cursor.execute("SELECT datname FROM pg_database WHERE starts_with(datname, %s)", [DATABASE_PREFIX])
        for (name,) in cursor.fetchall():
            match = re.fullmatch(rf"{DATABASE_PREFIX}_(\d+)_[0-9a-f]+", name)
            if match and not process_alive(int(match[1])):
                try:
                    cursor.execute(f'DROP DATABASE "{name}"')
                except psycopg2.errors.ObjectInUse:
                    continue
                shutil.rmtree(config.filestore(name), ignore_errors=True)
                _logger.info("Dropped %s, left by a test run that was killed", name)

    def _run(self, options, log):
        """odoo-bin on the database, to completion; fail with its log's tail."""
        with open(log, "w") as out:
            result = subprocess.run(
                self.command(*options),
                stdout=out,
                stderr=subprocess.STDOUT,
                timeout=INSTALL_TIMEOUT,
                check=False,
            )
        if result.returncode:
            raise RuntimeError(f"odoo-bin {' '.join(options)} exited with {result.returncode}:\n{tail(log)}")

    def command(self, *options):
        """odoo-bin on the database with the configuration file, and ``options``."""
        return [*odoo_bin(), "-c", str(self.config_file), "-d", self.database, "--log-level=info", *options]

    def _prepare(self):
        """Before the server starts: the administrator's password (the template's is not ours to
        know), and the held scheduled actions."""
        admin_id = self.ref("base.user_admin")
        with self._sql.cursor() as cursor:
            cursor.execute(
                "UPDATE res_users SET password = %s WHERE id = %s RETURNING login",
                [passlib.hash.pbkdf2_sha512.hash(self.admin_password), admin_id],
            )
            self.admin_login = cursor.fetchone()[0]
            held = [self.ref(xmlid) for xmlid in self.held_crons]
            cursor.execute(
                "UPDATE ir_cron SET nextcall = (now() AT TIME ZONE 'UTC') + interval '1 year' "
                "WHERE id = ANY(%s)",
                [held],
            )

    def start_server(self, workers=None, cron_workers=None):
        """One more ``odoo-bin`` serving the database with the same configuration (the first at
        ``start``), as a second machine would; its own port and log. Returns it (an ``OdooServer``)."""
        number = len(self.servers) + 1
        server = OdooServer(
            self,
            self.workdir / ("server.log" if number == 1 else f"server-{number}.log"),
            self.workers if workers is None else workers,
            self.cron_workers if cron_workers is None else cron_workers,
        )
        try:
            server.start()
        except BaseException:
            server.stop()
            raise
        self.servers.append(server)
        return server

    def stop_servers(self):
        for server in reversed(self.servers):
            server.stop()

    def restart(self, **options):
        """Stop every server, change options of the configuration (a value of None drops one), and
        start them again; returns once each answers. The log of each goes on in its file."""
        self.stop_servers()
        self.options.update(options)
        self._write_config()
        for server in self.servers:
            server.start()

    # -- what tests use ---------------------------------------------------------------------------

    def session(self, login, password):
        return self.server.session(login, password)

    def admin(self):
        return self.server.admin()

    def sql(self, query, params=None):
        """Rows of ``query`` on the server's database, on the test's own connection (autocommit)."""
        with self._sql.cursor() as cursor:
            cursor.execute(query, params)
            return cursor.fetchall() if cursor.description else []

    def ref(self, xmlid):
        module, name = xmlid.split(".")
        rows = self.sql("SELECT res_id FROM ir_model_data WHERE module = %s AND name = %s", [module, name])
        if not rows:
            raise ValueError(f"No record {xmlid} in {self.database}")
        return rows[0][0]

    def log_lines(self, pattern, start=0):
        """Lines of the server's log from offset ``start`` that match ``pattern``."""
        with open(self.server_log, "rb") as log:
            log.seek(start)
            text = log.read().decode(errors="replace")
        return [line for line in text.splitlines() if re.search(pattern, line)]

    def log_size(self):
        return self.server_log.stat().st_size

    def pg_dump(self):
        """The database as ``pg_dump`` (plain SQL) writes it for a backup, with the test process's
        connection settings; as text."""
        _name, info = connection_info_for(self.database)
        variables = {"host": "PGHOST", "port": "PGPORT", "user": "PGUSER", "password": "PGPASSWORD"}
        environment = {**os.environ, **{variables[key]: str(info[key]) for key in variables if info.get(key)}}
        dump = subprocess.run(
            [shutil.which("pg_dump") or "pg_dump", "--no-owner", info.get("dbname") or self.database],
            env=environment,
            capture_output=True,
            timeout=INSTALL_TIMEOUT,
            check=True,
        )
        return dump.stdout.decode(errors="replace")


class OdooServer:
    """One ``odoo-bin`` serving a ``ProductionOdoo``'s database: its port, process and log."""

    def __init__(self, odoo, log, workers, cron_workers):
        self.odoo, self.log = odoo, log
        self.workers, self.cron_workers = workers, cron_workers
        self.port = None
        self.process = None

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def session(self, login, password):
        return OdooSession(self.url, self.odoo.database, login, password)

    def admin(self):
        return self.session(self.odoo.admin_login, self.odoo.admin_password)

    def start(self):
        database = self.odoo.database
        for attempt in range(1, PORT_ATTEMPTS + 1):
            self.port = free_port()
            command = self.odoo.command(
                f"--db-filter=^{re.escape(database)}$",
                "--no-database-list",
                "--http-interface=127.0.0.1",
                f"--http-port={self.port}",
                f"--gevent-port={free_port()}",
                f"--workers={self.workers}",
                f"--max-cron-threads={self.cron_workers}",
            )
            with open(self.log, "a") as out:
                # A session of its own: its workers and gevent process are one process group to stop.
                self.process = subprocess.Popen(
                    command, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
                )
            try:
                wait_until(self._answers, START_TIMEOUT, f"odoo-bin serving {self.url}; log {self.log}")
                return self
            except ServerExited:
                if attempt == PORT_ATTEMPTS or "Address already in use" not in tail(self.log):
                    raise
                self.process = None
        return self

    def _answers(self):
        if self.process.poll() is not None:
            raise ServerExited(
                f"odoo-bin exited at start (code {self.process.returncode}):\n{tail(self.log)}"
            )
        try:
            return requests.get(f"{self.url}/web/health", timeout=10).status_code == 200
        except requests.RequestException:
            return False

    def stop(self):
        """SIGTERM, then SIGKILL for its whole process group."""
        if self.process is None:
            return
        group = self.process.pid  # the session's leader: its process group has the same id
        self.process.send_signal(signal.SIGTERM)  # the master stops its workers gracefully
        try:
            self.process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            _logger.warning("odoo-bin %s did not stop within %s s: killed", group, STOP_TIMEOUT)
        # Whatever is left of its group (all of it after a timeout) is killed.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(group, signal.SIGKILL)
        self.process.wait()
        self.process = None


class ProductionCase(BaseCase):
    """A test class against a production-mode Odoo (``cls.odoo``) and a private Dovecot
    (``cls.dovecot``), signed in as the administrator (``cls.admin``). Tag the class
    ``post_install``, ``-at_install`` and ``production``.

    The sync's scheduled action is held (``held_crons``): a test runs it with ``run_scheduled_action``
    when it means to, as an administrator's "Run Manually" does.
    """

    workers = 2
    cron_workers = 2
    held_crons = ("mail_crm_sync.ir_cron_mail_sync",)
    server_options = {}  # options of the server's configuration besides the test process's

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.dovecot = cls.make_dovecot().start()
        cls.addClassCleanup(cls.dovecot.stop)
        cls.odoo = ProductionOdoo(
            workers=cls.workers,
            cron_workers=cls.cron_workers,
            held_crons=cls.held_crons,
            options=cls.server_options,
        ).start()
        cls.addClassCleanup(cls.odoo.stop)
        cls.admin = cls.odoo.admin()

    @classmethod
    def make_dovecot(cls):
        """The class's Dovecot, not started yet; a class that needs another kind overrides this."""
        return DovecotServer()

    def setUp(self):
        super().setUp()
        self.addCleanup(self._keep_logs_of_a_failure)

    def _keep_logs_of_a_failure(self):
        outcome = getattr(self, "_outcome", None)
        if outcome is None or not outcome.success:
            self.odoo.keep_logs = True

    @classmethod
    def new_user(cls, login, name, groups=("sales_team.group_sale_salesman",)):
        """A user created by the administrator, signed in."""
        password = secrets.token_urlsafe(12)
        cls.admin.call(
            "res.users",
            "create",
            {
                "name": name,
                "login": login,
                "email": f"{login}@company.example",
                "password": password,
                "groups_id": [(6, 0, [cls.odoo.ref(group) for group in groups])],
            },
        )
        return cls.odoo.session(login, password)

    def connect_mailbox(self, user, box=None, **values):
        """As ``user`` in the web client: save a new account of a Dovecot mailbox, then press Test
        Connection (which lists the folders and makes the account active). Returns (id, mailbox)."""
        box = box or self.dovecot.add_user()
        saved = user.call(
            "mail.sync.account",
            "web_save",
            [],
            {
                "name": f"Mailbox {box.email}",
                "email": box.email,
                "imap_host": self.dovecot.host,
                "imap_port": self.dovecot.port,
                "imap_security": "none",
                "password": box.password,
                **values,
            },
            specification={"state": {}},
        )
        account_id = saved[0]["id"]
        answer = user.button("mail.sync.account", "action_test_connection", [account_id])
        self.assertEqual(answer["params"]["type"], "success", answer["params"]["message"])
        return account_id, box

    def run_scheduled_action(self, xmlid):
        """An administrator's "Run Manually" of a scheduled action: it runs in an HTTP worker, on its
        own transactions, as it does in a cron worker."""
        self.admin.button("ir.cron", "method_direct_trigger", [self.odoo.ref(xmlid)])
