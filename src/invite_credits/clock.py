"""The service's one clock: real time, or a test clock that only an admin moves, forward."""

from __future__ import annotations

import time


class Clock:
    """Whole seconds since the epoch, UTC. With `test_now` set, time stands still until advanced."""

    def __init__(self, test_now: int | None = None) -> None:
        self._test_now = test_now

    @property
    def is_test(self) -> bool:
        return self._test_now is not None

    def now(self) -> int:
        if self._test_now is not None:
            return self._test_now
        return int(time.time())

    def set_test_time(self, now: int) -> None:
        if self._test_now is None:
            raise RuntimeError("the test clock is off")
        if now < self._test_now:
            raise ValueError("the test clock never goes back")
        self._test_now = now
