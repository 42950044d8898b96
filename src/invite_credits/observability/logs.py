"""Structured logs: one JSON object a line on stderr.

Every line goes through `logging` (tests and operators attach handlers as usual), with one shortcut for the line
every request writes: `line()` formats and writes it straight through `JsonLines` when that handler is the only
one that would take it (the server's own configuration), so a request pays for one dict and one write, not a
LogRecord, a caller lookup and a handler chain. Anything else attached (pytest's `caplog`, a filter) and `line()`
takes the ordinary way.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import threading
import time
from typing import Any, TextIO

import orjson


def _timestamp(created: float, _cache: list[Any] = [None, ""]) -> str:  # noqa: B006 - one cache per process
    second = int(created)
    if _cache[0] != second:
        _cache[0], _cache[1] = second, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
    return f"{_cache[1]}.{int((created - second) * 1000):03d}Z"


def _entry(created: float, level: str, logger: str, message: str, fields: dict[str, Any]) -> dict[str, Any]:
    entry = {"ts": _timestamp(created), "level": level, "logger": logger, "msg": message}
    entry.update(fields)
    return entry


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, message, the record's `fields`, and any traceback."""

    def format(self, record: logging.LogRecord) -> str:
        entry = _entry(record.created, record.levelname.lower(), record.name, record.getMessage(),
                       getattr(record, "fields", {}))
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return orjson.dumps(entry, default=str).decode()


class JsonLines(logging.StreamHandler[TextIO]):
    """The server's handler: JsonFormatter's lines on a stream, and `write` for `line()`'s shortcut.

    Lines `write` gets on an event loop are written together, at most `delay` seconds after the first of them or
    once `batch` are pending (one system call and one loop callback for many requests' lines: once per request,
    they were a twelfth of a balance query); anything `emit`ted, and `flush`, writes them first, so the order
    holds. A process killed outright loses at most the last `delay` seconds of these lines."""

    def __init__(self, stream: TextIO, delay: float = 0.02, batch: int = 256) -> None:
        super().__init__(stream)
        self.setFormatter(JsonFormatter())
        self.delay = delay
        self.batch = batch
        self._pending: list[bytes] = []
        self._scheduled_on: asyncio.AbstractEventLoop | None = None  # the loop that will write what is pending

    def write(self, entry: dict[str, Any]) -> None:
        line = orjson.dumps(entry, default=str, option=orjson.OPT_APPEND_NEWLINE)
        try:
            loop: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        with self._held():
            self._pending.append(line)
            if loop is None or len(self._pending) >= self.batch:
                self._drain()
            elif self._scheduled_on is not loop:  # none yet, or on a loop that has ended since
                self._scheduled_on = loop
                loop.call_later(self.delay, self._due)

    def emit(self, record: logging.LogRecord) -> None:
        with self._held():
            self._drain()
            super().emit(record)

    def flush(self) -> None:
        with self._held():
            self._drain()
            super().flush()

    def _due(self) -> None:
        with self._held():
            self._scheduled_on = None
            self._drain()

    def _held(self) -> threading.RLock:
        return self.lock  # type: ignore[return-value]  # made by Handler.__init__ (an RLock)

    def _drain(self) -> None:
        if not self._pending:
            return
        data = b"".join(self._pending)
        self._pending.clear()
        try:
            # The bytes under the text layer when there are (stderr): every write is flushed, so the two never
            # interleave.
            buffer = getattr(self.stream, "buffer", None)
            if buffer is not None:
                buffer.write(data)
                buffer.flush()
            else:
                self.stream.write(data.decode())
                self.stream.flush()
        except Exception:  # noqa: BLE001 - as logging does: a log line that cannot be written is not the request's failure
            self.handleError(logging.makeLogRecord({"msg": "request log lines"}))


def _sole_writer(logger: logging.Logger, level: int) -> JsonLines | None:
    """The JsonLines handler when it is the only handler, along `logger`'s chain, that takes `level` and no
    filter stands in the way; else None."""
    found: JsonLines | None = None
    current: logging.Logger | None = logger
    while current is not None:
        if current.filters:
            return None
        for handler in current.handlers:
            if handler.level > level:
                continue
            if type(handler) is not JsonLines or found is not None or handler.filters:
                return None
            found = handler
        current = current.parent if current.propagate else None
    return found


def line(logger: logging.Logger, message: str, fields: dict[str, Any], level: int = logging.INFO) -> None:
    """`logger.log(level, message, extra={"fields": fields})`, written directly when JsonLines alone takes it."""
    if not logger.isEnabledFor(level):
        return
    writer = _sole_writer(logger, level)
    if writer is None:
        logger.log(level, message, extra={"fields": fields})
        return
    writer.write(_entry(time.time(), logging.getLevelName(level).lower(), logger.name, message, fields))


def configure_logging(level: str) -> None:
    # What a record would otherwise look up on every line and no line shows (the logging HOWTO's "Optimization").
    logging.logThreads = logging.logProcesses = logging.logMultiprocessing = False
    root = logging.getLogger()
    root.handlers[:] = [JsonLines(sys.stderr)]
    root.setLevel(level)


class LastError(logging.Handler):
    """Keeps the last error line logged (a worker reports it to its supervisor when it fails to start)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.message: str | None = None

    def emit(self, record: logging.LogRecord) -> None:
        self.message = record.getMessage().strip().splitlines()[-1] if record.getMessage().strip() else None
