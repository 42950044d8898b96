"""The JSON log lines: the request line's shortcut writes what `logging` would, and steps aside for any other
handler or filter."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from contextlib import contextmanager

import orjson
import pytest

from invite_credits.observability import logs


@pytest.fixture
def stream() -> Iterator[io.StringIO]:
    """The root logger with JsonLines alone, as the server configures it. pytest adds its own capture handlers
    to the root for the test's call, after fixtures run: `alone()` takes them out within a test."""
    root = logging.getLogger()
    saved, level = root.handlers[:], root.level
    out = io.StringIO()
    root.handlers[:] = [logs.JsonLines(out)]
    root.setLevel(logging.INFO)
    try:
        yield out
    finally:
        root.handlers[:] = saved
        root.setLevel(level)


@contextmanager
def alone() -> Iterator[None]:
    root = logging.getLogger()
    kept = root.handlers[:]
    root.handlers[:] = [h for h in kept if isinstance(h, logs.JsonLines)]
    try:
        yield
    finally:
        root.handlers[:] = kept


@contextmanager
def attached(logger: logging.Logger, *, handler: logging.Handler | None = None,
             filter_: logging.Filter | None = None) -> Iterator[None]:
    """A handler or a filter on `logger` for the block."""
    if handler is not None:
        logger.addHandler(handler)
    if filter_ is not None:
        logger.addFilter(filter_)
    try:
        yield
    finally:
        if handler is not None:
            logger.removeHandler(handler)
        if filter_ is not None:
            logger.removeFilter(filter_)


def _lines(out: io.StringIO) -> list[dict[str, object]]:
    return [orjson.loads(text) for text in out.getvalue().splitlines()]


def test_the_shortcut_writes_the_line_logging_writes(stream: io.StringIO) -> None:
    logger = logging.getLogger("invite_credits.test_logs")
    fields = {"request_id": "r1", "ms": 1.5, "member_id": None}
    with alone():
        assert logs._sole_writer(logger, logging.INFO) is not None  # the shortcut is what writes next
        logs.line(logger, "graphql", fields)
        logger.info("graphql", extra={"fields": fields})
    direct, through_logging = _lines(stream)
    assert direct.keys() == through_logging.keys()
    assert {k: v for k, v in direct.items() if k != "ts"} == {k: v for k, v in through_logging.items() if k != "ts"}
    assert direct["level"] == "info" and direct["logger"] == "invite_credits.test_logs"
    assert str(direct["ts"]).endswith("Z") and len(str(direct["ts"])) == len("2026-01-01T00:00:00.000Z")


def test_the_shortcut_steps_aside_for_another_handler_or_a_filter(stream: io.StringIO) -> None:
    logger = logging.getLogger("invite_credits.test_logs")
    seen: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append(record)

    with alone(), attached(logger, handler=Keep()):
        logs.line(logger, "graphql", {"request_id": "r2"})
    assert [getattr(r, "fields", None) for r in seen] == [{"request_id": "r2"}]
    assert _lines(stream)[0]["request_id"] == "r2"  # and JsonLines still wrote it, through logging

    with alone(), attached(logger, filter_=logging.Filter("elsewhere")):
        logs.line(logger, "graphql", {"request_id": "r3"})
    assert len(_lines(stream)) == 1  # the filter dropped it, as logging would


def test_a_level_below_the_loggers_writes_nothing(stream: io.StringIO) -> None:
    logger = logging.getLogger("invite_credits.test_logs")
    logs.line(logger, "graphql", {"request_id": "r4"}, level=logging.DEBUG)
    assert stream.getvalue() == ""


def test_lines_on_a_loop_are_written_together_soon_and_in_order(stream: io.StringIO) -> None:
    import asyncio

    logger = logging.getLogger("invite_credits.test_logs")

    async def turns() -> list[str]:
        logs.line(logger, "graphql", {"request_id": "a"})
        await asyncio.sleep(0)  # a turn of the loop: nothing written yet
        logs.line(logger, "graphql", {"request_id": "b"})
        during = stream.getvalue()
        await asyncio.sleep(0.2)  # past the handler's delay: both lines go out together
        after = stream.getvalue()
        logs.line(logger, "graphql", {"request_id": "c"})
        logger.error("boom")  # an ordinary record writes what is pending first
        return [during, after]

    with alone():
        during, after = asyncio.run(turns())
    assert during == ""
    assert [line["request_id"] for line in _lines(io.StringIO(after))] == ["a", "b"]
    assert [line.get("request_id", line["msg"]) for line in _lines(stream)] == ["a", "b", "c", "boom"]


def test_a_full_batch_of_lines_is_written_at_once(stream: io.StringIO) -> None:
    import asyncio

    logger = logging.getLogger("invite_credits.test_logs")
    handler = next(h for h in logging.getLogger().handlers if isinstance(h, logs.JsonLines))

    async def many() -> str:
        for number in range(handler.batch):
            logs.line(logger, "graphql", {"request_id": str(number)})
        return stream.getvalue()  # no turn of the loop has passed

    with alone():
        written = asyncio.run(many())
    assert len(_lines(io.StringIO(written))) == handler.batch


def test_lines_of_a_later_loop_are_written_too(stream: io.StringIO) -> None:
    """A loop that ends before its lines' delay (a CLI command's `asyncio.run`) leaves them pending; the next
    loop's lines are still written on time, after them."""
    import asyncio

    logger = logging.getLogger("invite_credits.test_logs")

    async def first() -> None:
        logs.line(logger, "graphql", {"request_id": "early"})

    async def second() -> str:
        logs.line(logger, "graphql", {"request_id": "late"})
        await asyncio.sleep(0.2)
        return stream.getvalue()

    with alone():
        asyncio.run(first())
        written = asyncio.run(second())
    assert [line["request_id"] for line in _lines(io.StringIO(written))] == ["early", "late"]
