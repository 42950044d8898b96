"""Serving over TCP: the service's own listening sockets, one per worker process, and a small supervisor.

uvicorn's supervisor binds its shared socket with protocol 0, so asyncio never sets TCP_NODELAY on the
connections it accepts and every kept-alive response waits for the client's delayed ACK (~40 ms; uvicorn
issue 3149). A socket made with IPPROTO_TCP gets TCP_NODELAY on every accepted connection. With several
workers each process listens on its own SO_REUSEPORT socket, so the kernel spreads connections over all of
them instead of letting one process take them all.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import socket
import time
from types import FrameType

from .settings import Settings

log = logging.getLogger("invite_credits.server")
BACKLOG = 2048
RESTART_DELAY_SECONDS = 1.0


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


def bind(settings: Settings, workers: int) -> socket.socket | None:
    """The listening socket for one process; with several, only proof that each can bind its own (or ListenError)."""
    if workers == 1:
        return listen_socket(settings.host, settings.port, reuse_port=False)
    listen_socket(settings.host, settings.port, reuse_port=True, listen=False).close()
    return None


def serve(settings: Settings, workers: int, sock: socket.socket | None) -> None:
    """Serve until interrupted: on `sock` in this process, or in `workers` processes under a supervisor."""
    if sock is not None:
        _serve_on(settings, sock)
    else:
        Supervisor(settings, workers).run()


def _serve_on(settings: Settings, sock: socket.socket) -> None:
    import uvicorn

    from .app import create_app

    # log_config=None: uvicorn's own lines go through the root logger, as JSON like every other line.
    config = uvicorn.Config(create_app(settings), log_level="warning", access_log=False, lifespan="on",
                            log_config=None, http=settings.http, loop=settings.loop)
    uvicorn.Server(config).run(sockets=[sock])


def _worker(settings: Settings) -> None:
    from .observability import configure_logging

    configure_logging(settings.log_level)
    try:
        sock = listen_socket(settings.host, settings.port, reuse_port=True)
    except ListenError as exc:
        log.error(str(exc))
        raise SystemExit(2) from None
    _serve_on(settings, sock)


class Supervisor:
    """Starts the workers, restarts one that dies, and stops them all on SIGINT or SIGTERM."""

    def __init__(self, settings: Settings, workers: int) -> None:
        self.settings = settings
        self.count = workers
        self.context = multiprocessing.get_context("spawn")
        self.processes: list[multiprocessing.process.BaseProcess] = []
        self.stopping = False

    def run(self) -> None:
        signal.signal(signal.SIGINT, self._stop)
        signal.signal(signal.SIGTERM, self._stop)
        self.processes = [self._start(i) for i in range(self.count)]
        while not self.stopping:
            time.sleep(0.2)
            for i, process in enumerate(self.processes):
                if not process.is_alive() and not self.stopping:
                    log.warning("worker exited; starting another", extra={"fields": {
                        "pid": process.pid, "exitcode": process.exitcode}})
                    time.sleep(RESTART_DELAY_SECONDS)
                    self.processes[i] = self._start(i)
        for process in self.processes:
            if process.is_alive() and process.pid is not None:
                _signal(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + 30
        for process in self.processes:
            process.join(max(0.0, deadline - time.monotonic()))
            if process.is_alive():
                process.kill()
                process.join()
        log.info("stopped", extra={"fields": {"workers": self.count}})

    def _start(self, index: int) -> multiprocessing.process.BaseProcess:
        process = self.context.Process(target=_worker, args=(self.settings,), name=f"invite-credits-worker-{index}")
        process.start()
        return process

    def _stop(self, signum: int, frame: FrameType | None) -> None:
        self.stopping = True


def _signal(pid: int, signum: int) -> None:
    try:
        os.kill(pid, signum)
    except ProcessLookupError:
        pass
