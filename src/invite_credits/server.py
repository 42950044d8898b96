"""Serving over TCP: the service's own listening sockets, one per worker process, and a small supervisor.

uvicorn's supervisor binds its shared socket with protocol 0, so asyncio never sets TCP_NODELAY on the
connections it accepts and every kept-alive response waits for the client's delayed ACK (~40 ms; uvicorn
issue 3149). A socket made with IPPROTO_TCP gets TCP_NODELAY on every accepted connection. With several
workers each process listens on its own SO_REUSEPORT socket, so the kernel spreads connections over all of
them instead of letting one process take them all; the supervisor binds them all, so only its own workers
share the port.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import queue
import shutil
import signal
import socket
import sys
import tempfile
import time
from types import FrameType
from typing import Any

from .settings import Settings

log = logging.getLogger("invite_credits.server")
BACKLOG = 2048
RESTART_DELAY_SECONDS = 1.0
KEEP_ALIVE_SECONDS = 30
SWITCH_INTERVAL_SECONDS = 0.0005


class ListenError(Exception):
    """The host and port cannot be listened on; the message names them and the reason."""


def listen_socket(host: str, port: int, *, reuse_port: bool, listen: bool = True) -> socket.socket:
    """A TCP socket bound to host:port (listening unless `listen` is False), or ListenError."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if reuse_port:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host, port))
        if listen:
            sock.listen(BACKLOG)
    except OSError as exc:
        sock.close()
        raise ListenError(f"cannot listen on {host}:{port} (--host/--port): {exc.strerror or exc}") from None
    return sock


def bind(settings: Settings, workers: int) -> list[socket.socket]:
    """The listening sockets, one per worker, or ListenError. With several workers each has its own SO_REUSEPORT
    socket; a socket without SO_REUSEPORT is bound first, and only to be closed: it cannot join sockets another
    server holds on the port, so a second deployment on a port in use is refused instead of splitting its
    traffic with the first."""
    if workers == 1:
        return [listen_socket(settings.host, settings.port, reuse_port=False)]
    listen_socket(settings.host, settings.port, reuse_port=False, listen=False).close()
    return [listen_socket(settings.host, settings.port, reuse_port=True) for _ in range(workers)]


def serve(settings: Settings, sockets: list[socket.socket]) -> int:
    """Serve until interrupted: in this process with one socket, else in a worker process per socket under a
    supervisor. Returns the exit code."""
    if len(sockets) == 1:
        return 0 if _serve_on(settings, sockets[0]) else 2
    return Supervisor(settings, sockets).run()


class _Server:
    """uvicorn's server, telling when it is serving (its lifespan started)."""

    @staticmethod
    def run(settings: Settings, sock: socket.socket, ready: Any = None) -> bool:
        import uvicorn

        from .http.app import create_app

        class Server(uvicorn.Server):
            started_ok = False

            async def startup(self, sockets: list[socket.socket] | None = None) -> None:
                await super().startup(sockets)
                if not self.should_exit:
                    Server.started_ok = True
                    if ready is not None:
                        ready.set()

        # log_config=None: uvicorn's own lines go through the root logger, as JSON like every other line.
        config = uvicorn.Config(create_app(settings), log_level="warning", access_log=False, lifespan="on",
                                log_config=None, http=settings.http, loop=settings.loop,
                                # uvicorn closes a kept-alive connection idle this long (its default, 5 s, also
                                # closed connections whose request waited out a short stall unanswered).
                                timeout_keep_alive=KEEP_ALIVE_SECONDS,
                                proxy_headers=True, forwarded_allow_ips=settings.forwarded_allow_ips,
                                # No `server: uvicorn` on every response: it tells a scanner what to try.
                                server_header=False)
        Server(config).run(sockets=[sock])
        return Server.started_ok


def _serve_on(settings: Settings, sock: socket.socket, ready: Any = None) -> bool:
    """Serve on `sock` until stopped; False when the server never started (its lifespan failed)."""
    # SQLite's writer thread runs many short calls, each releasing the GIL; behind a busy event loop it would wait
    # up to the whole switch interval (5 ms) to get it back after every one of them. A server process shortens
    # it here, once; opening a store changes no process-wide setting.
    sys.setswitchinterval(min(sys.getswitchinterval(), SWITCH_INTERVAL_SECONDS))
    return _Server.run(settings, sock, ready)


def _worker(settings: Settings, sock: socket.socket, ready: Any, failures: Any) -> None:
    from .observability.logs import LastError, configure_logging

    configure_logging(settings.log_level)
    last = LastError()
    logging.getLogger().addHandler(last)
    try:
        started = _serve_on(settings, sock, ready)
    except Exception as exc:  # noqa: BLE001 - reported to the supervisor in one line
        log.error("worker failed to start: %s", exc)
        started = False
    if not started:
        failures.put(last.message or "the worker stopped before it served")
        raise SystemExit(2)


class Supervisor:
    """Starts a worker per socket, restarts one that dies (a worker that fails at start-up twice in a row stops
    the supervisor with its error line), and stops them all on SIGINT or SIGTERM. Workers write their metrics
    to a directory of their own (prometheus_client's multiprocess mode), so /metrics on any worker sums them."""

    def __init__(self, settings: Settings, sockets: list[socket.socket], target: Any = None) -> None:
        self.settings = settings
        self.sockets = sockets
        self.target = target or _worker  # what a worker process runs: (settings, socket, ready, failures)
        self.context = multiprocessing.get_context("spawn")
        self.processes: list[multiprocessing.process.BaseProcess] = []
        self.ready: list[Any] = []
        self.failures = self.context.Queue()
        self.stopping = False

    def run(self) -> int:
        signal.signal(signal.SIGINT, self._stop)
        signal.signal(signal.SIGTERM, self._stop)
        metrics_dir = tempfile.mkdtemp(prefix="invite-credits-metrics-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir  # inherited by every worker it spawns
        code = 0
        try:
            self.ready = [self.context.Event() for _ in self.sockets]
            self.processes = [self._start(i) for i in range(len(self.sockets))]
            failed_in_a_row = [0] * len(self.sockets)
            while not self.stopping:
                time.sleep(0.2)
                for i, process in enumerate(self.processes):
                    if process.is_alive() or self.stopping:
                        continue
                    _mark_dead(process.pid)
                    started = self.ready[i].is_set()
                    failed_in_a_row[i] = 0 if started else failed_in_a_row[i] + 1
                    if failed_in_a_row[i] >= 2:
                        reason = self._failure() or f"exit code {process.exitcode}"
                        log.error("worker failed at start-up twice in a row; stopping: %s", reason)
                        self.stopping, code = True, 2
                        break
                    log.warning("worker exited; starting another", extra={"fields": {
                        "pid": process.pid, "exitcode": process.exitcode, "started": started}})
                    time.sleep(RESTART_DELAY_SECONDS)
                    self.ready[i] = self.context.Event()
                    self.processes[i] = self._start(i)
            self._stop_workers()
        finally:
            os.environ.pop("PROMETHEUS_MULTIPROC_DIR", None)
            shutil.rmtree(metrics_dir, ignore_errors=True)
        log.info("stopped", extra={"fields": {"workers": len(self.sockets)}})
        return code

    def _failure(self) -> str | None:
        message = None
        while True:
            try:
                message = self.failures.get_nowait()
            except queue.Empty:
                return message

    def _stop_workers(self) -> None:
        for process in self.processes:
            if process.is_alive() and process.pid is not None:
                _signal(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + 30
        for process in self.processes:
            process.join(max(0.0, deadline - time.monotonic()))
            if process.is_alive():
                process.kill()
                process.join()

    def _start(self, index: int) -> multiprocessing.process.BaseProcess:
        process = self.context.Process(target=self.target, args=(self.settings, self.sockets[index], self.ready[index],
                                                             self.failures), name=f"invite-credits-worker-{index}")
        process.start()
        return process

    def _stop(self, signum: int, frame: FrameType | None) -> None:
        self.stopping = True


def _mark_dead(pid: int | None) -> None:
    """A dead worker's live gauges leave the sum (prometheus_client's multiprocess mode)."""
    if pid is None:
        return
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(pid)  # type: ignore[no-untyped-call]


def _signal(pid: int, signum: int) -> None:
    try:
        os.kill(pid, signum)
    except ProcessLookupError:
        pass
