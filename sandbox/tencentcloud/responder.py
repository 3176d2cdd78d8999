"""Base of every service's responses class: one method per action, named exactly like the action.

The server builds `ResponsesClass(world, caller, region)` for each request and calls
`getattr(instance, action)(params) -> dict`; the dict becomes the `Response` body (RequestId is added).
Errors are raised as `exceptions.TencentCloudError(code, message)`.
"""

from __future__ import annotations

from sandbox.tencentcloud.world import Caller, World


class Responder:
    """Holds what an action needs besides its params: the world, who called, and the X-TC-Region."""

    def __init__(self, world: World, caller: Caller, region: str) -> None:
        self.world = world
        self.caller = caller
        self.region = region
