"""A scoped rate throttle that counts with one atomic cache increment per request.

DRF's `ScopedRateThrottle` reads a client's list of timestamps, appends, and writes it back: two
workers (or threads) answering the same client at once both read the old list, and one write is
lost, so a client spread over several workers gets through more than its rate. Here each client
has one counter per fixed window (`cache.incr`: Redis INCR when REDIS_URL is set, a locked
increment in local memory otherwise), so the limit holds however many workers and replicas share
the cache, and a request costs one round trip instead of a pickled list.
"""

from __future__ import annotations

from typing import Any

from rest_framework.throttling import ScopedRateThrottle, SimpleRateThrottle


class FixedWindowThrottle(SimpleRateThrottle):
    """DRF's rate throttle, counted per fixed window of the rate's period with one atomic increment,
    instead of a list of timestamps read and written back."""

    def allow_request(self, request: Any, view: Any) -> bool:
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        self.now = self.timer()
        window = int(self.now // self.duration)
        self.window_end = (window + 1) * self.duration
        key = f"{self.key}_{window}"
        self.cache.add(key, 0, timeout=self.duration + 1)
        try:
            count = self.cache.incr(key)
        except ValueError:  # the key expired between add and incr: this request opens the window
            self.cache.add(key, 1, timeout=self.duration + 1)
            count = 1
        return count <= self.num_requests

    def wait(self) -> float:
        return max(0.0, self.window_end - self.now)


class AtomicScopedRateThrottle(ScopedRateThrottle, FixedWindowThrottle):
    """`throttle_scope` on the view and the rates in `DEFAULT_THROTTLE_RATES`, as DRF's (its
    `allow_request` sets the scope and rate, then calls the fixed window's); counted per fixed window."""
