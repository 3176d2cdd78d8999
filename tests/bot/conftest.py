"""The bot test group drives the one harness in tests/support over HTTP (see tests.support.harness)."""

from tests.support.harness import (  # noqa: F401  (fixtures)
    account_overrides,
    bot,
    db,
    slack,
    slack_overrides,
    top_level,
    transport,
)
