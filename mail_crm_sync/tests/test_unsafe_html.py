import http.server
import threading

from odoo.tests import new_test_user, tagged

from .common import MailSyncHttpCase, make_email

PAYLOADS = """
<p>Quarterly figures attached.</p>
<script>window.__mcs_xss = 'script'</script>
<img src="x" onerror="window.__mcs_xss = 'onerror'">
<a id="js" href="javascript:window.__mcs_xss = 'href'">javascript link</a>
<a id="js2" href="  JaVaScRiPt:window.__mcs_xss = 'href2'">obfuscated link</a>
<a id="data" href="data:text/html;base64,PHNjcmlwdD53aW5kb3cuX19tY3NfeHNzPTE8L3NjcmlwdD4=">data link</a>
<div style="width: expression(window.__mcs_xss = 'expression')">css expression</div>
<style>@import url('{server}/import.css'); p {{ color: red }}</style>
<svg><script>window.__mcs_xss = 'svg'</script></svg>
<svg onload="window.__mcs_xss = 'svgload'"><circle r="1"/></svg>
<base href="{server}/base/">
<meta http-equiv="refresh" content="0;url={server}/refresh">
<form action="{server}/form"><input name="q"><button>Go</button></form>
<iframe src="{server}/frame"></iframe>
<object data="{server}/object"></object>
<details open ontoggle="window.__mcs_xss = 'ontoggle'"><summary>details</summary></details>
<img src="{server}/pixel.gif" width="1" height="1">
<div style="background-image: url('{server}/background.gif')">background</div>
<table background="{server}/table.gif"><tr><td>cell</td></tr></table>
<p>End of the figures.</p>
<embed src="{server}/embed">
"""
# Odoo's sanitizer drops an unclosed <embed> with everything after it: shown last, so that the
# other payloads are checked (the stored source keeps it all).
FORBIDDEN = (
    "<script",
    "onerror",
    "onload",
    "ontoggle",
    "javascript:",
    "data:text/html",
    "expression(",
    "@import",
    "<base",
    "<meta",
    "<form",
    "<iframe",
    "<object",
    "<embed",
)


class _Recorder(http.server.BaseHTTPRequestHandler):
    """A server on loopback that remembers every path a browser asked it for."""

    def do_GET(self):
        self.server.paths.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "image/gif")
        self.end_headers()
        self.wfile.write(b"GIF89a\x01\x00\x01\x00\x00\x00\x00;")

    def log_message(self, *args):
        pass


@tagged("post_install", "-at_install")
class TestUnsafeHtml(MailSyncHttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.remote = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
        cls.remote.paths = []
        threading.Thread(target=cls.remote.serve_forever, daemon=True).start()
        cls.addClassCleanup(cls.remote.server_close)
        cls.addClassCleanup(cls.remote.shutdown)
        cls.salesman = new_test_user(
            cls.env, login="mcs_html_salesman", groups="sales_team.group_sale_salesman"
        )
        box = cls.server.add_user()
        remote = f"http://127.0.0.1:{cls.remote.server_address[1]}"
        cls.server.deliver(
            box,
            make_email(
                to=box.email,
                subject="Quarterly figures",
                html=PAYLOADS.format(server=remote),
                message_id="<payloads@client.example>",
            ),
        )
        account = cls.env["mail.sync.account"].create(
            cls.account_values(box, name="Payload box", user_id=cls.salesman.id)
        )
        account.action_test_connection()
        account._sync_accounts()
        cls.message = cls.env["mail.sync.message"].search([("message_id", "=", "<payloads@client.example>")])

    def test_payloads_are_removed_by_the_sanitizer(self):
        body = str(self.message.with_user(self.salesman).body_html)
        self.assertIn("Quarterly figures", body)
        self.assertIn("End of the figures", body)
        self.assertEqual([marker for marker in FORBIDDEN if marker in body.lower()], [])
        self.assertNotIn(
            f'127.0.0.1:{self.remote.server_address[1]}/pixel.gif"', body.replace("data-src", "")
        )
        self.assertEqual(
            self.message.with_user(self.salesman).remote_image_count, 2
        )  # the table's background attribute is dropped

    def test_remote_images_load_only_when_asked_for_on_that_email(self):
        held = str(self.message.with_user(self.salesman).body_html)
        self.assertNotIn(' src="http', held)
        self.assertNotIn("background.gif')", held)
        shown = str(self.message.with_user(self.salesman).with_context(mail_sync_show_images=True).body_html)
        self.assertIn("pixel.gif", shown.replace("data-src", ""))
        self.assertEqual([marker for marker in FORBIDDEN if marker in shown.lower()], [])

    def test_in_chromium_nothing_runs_and_nothing_loads_until_asked(self):
        self.remote.paths.clear()
        url = f"/odoo/action-mail_crm_sync.mail_sync_message_action/{self.message.id}"
        self.start_tour(url, "mail_crm_sync_unsafe_html_tour", login=self.salesman.login)
        # Only the images, and only after "Show Images": no frame, form, refresh, import or object.
        self.assertTrue(self.remote.paths, "the images load once asked for")
        self.assertEqual(
            {
                path
                for path in self.remote.paths
                if path not in ("/pixel.gif", "/background.gif", "/table.gif")
            },
            set(),
        )
