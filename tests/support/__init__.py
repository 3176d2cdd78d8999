"""What every test group shares: the sandbox workspace (people, channel, accounts), the `/dts-migrate` texts,
and the one bot harness (the real Bolt app, Slack-signed requests, the Slack emulator). Waits go through
`sandbox.waiting`."""
