from . import cli, controllers, models, wizard


def uninstall_hook(env):
    """The full-text tables are not models of their own (mail.sync.message.init() makes them):
    they go with the addon, so that a later install starts without stale documents."""
    env.cr.execute("DROP TABLE IF EXISTS mail_sync_message_search, mail_sync_message_search_pending")
