"""How many requests one client keeps in flight: a window that halves on throttling and grows back.

Every HTTP attempt takes a slot before it is sent and gives it back when its answer arrives, so
the window bounds requests in flight across everything sharing the client (transfers, parallel
listings, content search), retries included.  It starts wide open (the connection pool's size),
so until S3 pushes back only the callers' own concurrency decides.  On a throttling answer
(503 SlowDown and friends) the window becomes half of what was in flight, once per round: answers
to requests sent before that cut describe the old window and do not cut again.  Each success then
adds ``1/window``, about one slot per round trip, up to the pool's size again (additive increase,
multiplicative decrease, as TCP does).  botocore's retries still resend the throttled requests,
with their exponential back-off; this decides how many may go at once.
"""

from __future__ import annotations

import threading

__all__ = ["THROTTLING_CODES", "ConcurrencyWindow"]

THROTTLING_CODES = frozenset({
    "SlowDown", "Throttling", "ThrottlingException", "ThrottledException", "RequestThrottledException",
    "TooManyRequestsException", "RequestLimitExceeded", "BandwidthLimitExceeded", "RequestThrottled",
    "ProvisionedThroughputExceededException", "EC2ThrottledException",
})


class ConcurrencyWindow:
    """A counting gate whose size follows the server (AIMD); thread-safe."""

    def __init__(self, limit: int, floor: int = 1):
        self.limit, self.floor = limit, floor
        self.size = float(limit)
        self.in_flight = 0
        self.cuts = 0  # how often throttling shrank the window: a round number
        self._changed = threading.Condition()

    def acquire(self) -> int:
        """Wait for a slot; returns the round it was taken in (give it back to :meth:`release`)."""
        with self._changed:
            self._changed.wait_for(lambda: self.in_flight < max(self.floor, int(self.size)))
            self.in_flight += 1
            return self.cuts

    def try_acquire(self) -> int | None:
        """A slot if one is free now (its round, as :meth:`acquire`), else None; never waits."""
        with self._changed:
            if self.in_flight < max(self.floor, int(self.size)):
                self.in_flight += 1
                return self.cuts
            return None

    def release(self, taken_in: int, throttled: bool) -> None:
        """Give a slot back; ``throttled`` if the server answered with a throttling error."""
        with self._changed:
            if throttled and taken_in == self.cuts:
                self.size = float(max(self.floor, min(int(self.size), self.in_flight) // 2))
                self.cuts += 1
            elif not throttled and self.size < self.limit:
                self.size = min(float(self.limit), self.size + 1 / self.size)
            self.in_flight -= 1
            self._changed.notify_all()

    def __repr__(self) -> str:
        return f"ConcurrencyWindow(size={int(self.size)}, limit={self.limit}, in_flight={self.in_flight})"
