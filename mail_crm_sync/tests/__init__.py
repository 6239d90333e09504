from . import test_account_health, test_concurrency, test_linking, test_security, test_sync, test_ui
