from . import (
    test_account_health,
    test_attachment_download,
    test_concurrency,
    test_credentials,
    test_linking,
    test_links_and_owners,
    test_security,
    test_send,
    test_sync,
    test_ui,
    test_unsafe_html,
    test_visibility_matrix,
)
