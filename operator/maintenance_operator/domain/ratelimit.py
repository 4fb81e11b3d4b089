"""A token bucket like client-go's flowcontrol (QPS refill, burst capacity), on an injected clock (pure).

``reserve`` books the next token and says how long the caller must wait for it, so concurrent callers are
served in arrival order and the long-run rate never exceeds ``qps`` whatever the concurrency."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class TokenBucket:
    qps: float
    burst: int
    _tokens: float = field(init=False)
    _at: float | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        if self.qps <= 0 or self.burst < 1:
            raise ValueError("qps must be > 0 and burst >= 1")
        self._tokens = float(self.burst)

    def reserve(self, now: float) -> float:
        """Take one token; seconds to wait before using it (0 when one was available)."""
        if self._at is not None:
            self._tokens = min(float(self.burst), self._tokens + (now - self._at) * self.qps)
        self._at = now
        self._tokens -= 1.0
        return 0.0 if self._tokens >= 0 else -self._tokens / self.qps
