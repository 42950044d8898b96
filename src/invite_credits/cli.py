"""invite-credits: a GraphQL service that runs a professional network's invitation credits."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from . import auth
from .domain import ids
from .settings import Settings, SettingsError, database
from .store.databases import Backend, backend
from .store.protocol import StoreError

log = logging.getLogger("invite_credits.cli")
WORKERS_MAX = 64


class CommandError(Exception):
    """A command cannot do what was asked; the message says why, in one line."""


def _settings(args: argparse.Namespace, **flags: Any) -> Settings:
    db = database(args.db) if getattr(args, "db", None) else {}
    if db and "INVITE_CREDITS_DB" in os.environ:  # the flag wins over the variable, whichever kind each names
        env = {k: v for k, v in os.environ.items() if k != "INVITE_CREDITS_DB"}
        return Settings.from_env(env, **db, **flags)
    return Settings.from_env(**db, **flags)


def _serve(args: argparse.Namespace) -> int:
    from .observability.logs import configure_logging
    from .pipeline.persisted import ManifestError
    from .server import ListenError, bind, serve

    configure_logging("INFO")  # so that a bad setting is reported as JSON too
    try:
        if not 1 <= args.workers <= WORKERS_MAX:
            raise SettingsError(f"--workers must be between 1 and {WORKERS_MAX}, not {args.workers}")
        settings = _settings(args, host=args.host, port=args.port)
        configure_logging(settings.log_level)
        settings.require_shared_secret()
        _check_stack(settings)
        database = backend(settings)
        database.prepare()
        _check_trusted_documents(settings)
        settings = settings.with_(jwt_secret=auth.load_secret(settings))
        auth.check_identity_provider(settings)
        sockets = bind(settings, args.workers)
        log.info("invite-credits %s: GraphQL (and GraphiQL) on http://%s:%d/graphql", _version(), settings.host,
                 settings.port, extra={"fields": {"database": database.describe(),
                                                  "workers": args.workers, "test_clock": settings.test_clock}})
    except (SettingsError, StoreError, ListenError, ManifestError, OSError) as exc:
        log.error(str(exc) if not isinstance(exc, OSError) else f"cannot start: {exc}")
        return 2
    return serve(settings, sockets)


def _check_stack(settings: Settings) -> None:
    """The chosen parser and loop are installed, or serve stops in one line."""
    from importlib.util import find_spec

    for choice, module, variable in ((settings.http, "httptools", "INVITE_CREDITS_HTTP"),
                                     (settings.loop, "uvloop", "INVITE_CREDITS_LOOP")):
        if choice == module and find_spec(module) is None:
            raise SettingsError(f"{variable}={module} needs the {module} package (pip install {module})")


def _check_trusted_documents(settings: Settings) -> None:
    """Every document of the trusted manifest parses and fits the schema, or serve stops before it starts."""
    if settings.trusted_documents is None:
        return
    from .api.schema import create_schema
    from .pipeline.persisted import load_manifest

    documents = load_manifest(settings.trusted_documents)  # ManifestError names the setting
    try:
        create_schema(trusted=documents.values())
    except ValueError as exc:
        raise SettingsError(f"INVITE_CREDITS_TRUSTED_DOCUMENTS: {exc}") from None


def _migrate(args: argparse.Namespace) -> int:
    database = backend(_settings(args))
    database.prepare()
    print(f"{database.describe()}: schema version {database.schema_version()}")
    return 0


def _token(args: argparse.Namespace) -> int:
    from .store import members

    settings = _settings(args)
    member_id = None
    if args.member_id is not None:
        member_id = ids.member_id(args.member_id)
        if member_id is None:  # IDs have one spelling: the API's (a raw number is not one)
            raise CommandError(f"not a member ID: {args.member_id!r} (give the ID as the API returns it, e.g. "
                               f"{ids.encode('Member', 1)})")
    if member_id is None and not args.admin:
        raise CommandError("give a MEMBER_ID, or --admin" + (" (--revoke names the member to sign out)"
                                                             if args.revoke else ""))
    if args.revoke:
        if args.admin:
            raise CommandError("--revoke signs a member out; it mints no token (leave out --admin)")
        assert member_id is not None
        return _revoke(settings, member_id)
    settings.require_shared_secret()
    if settings.jwt_secret is None:  # the secret is kept beside the database: it must be the server's
        backend(settings).require_existing(writable=False)
    session = None
    if member_id is not None:
        database = backend(settings)
        with database.reader(migrated=True) as r:
            found = members.session(r, id=member_id)
        if found is None:
            raise CommandError(f"no member {args.member_id} in {database.describe()}")
        session = found.key
    secret = auth.load_secret(settings)
    if args.admin:
        print(auth.admin_token(secret, settings.admin_token_ttl_seconds, member_id, session))
        ttl, variable = settings.admin_token_ttl_seconds, "INVITE_CREDITS_ADMIN_TOKEN_TTL"
    else:
        assert member_id is not None and session is not None
        print(auth.member_token(secret, member_id, session, settings.member_token_ttl_seconds))
        ttl, variable = settings.member_token_ttl_seconds, "INVITE_CREDITS_MEMBER_TOKEN_TTL"
    # On standard error, so that `TOKEN=$(invite-credits token ...)` takes the token alone.
    print(f"expires {auth.expiry_text(ttl)} ({variable})", file=sys.stderr)
    return 0


def _revoke(settings: Settings, member_id: int) -> int:
    """token --revoke: sign the member out everywhere, as signOutEverywhere does."""
    from .domain.access import Actor
    from .domain.errors import Refusal
    from .http.app import open_service
    from .service import SignOut

    database = backend(settings)
    database.require_existing()

    async def run() -> int:
        service = await open_service(settings)
        try:
            return await service.sign_out_everywhere(Actor(is_admin=True), SignOut(member_id, named=True))
        finally:
            await service.db.close()

    try:
        revoked_at = asyncio.run(run())
    except Refusal:
        raise CommandError(f"no member {ids.encode('Member', member_id)} in {database.describe()}") from None
    when = datetime.fromtimestamp(revoked_at, UTC).isoformat().replace("+00:00", "Z")
    print(f"{ids.encode('Member', member_id)} signed out everywhere at {when}: every token issued before is refused")
    return 0


def _expire(args: argparse.Namespace) -> int:
    from .http.app import open_service

    settings = _settings(args)
    backend(settings).require_existing()

    async def run() -> int:
        service = await open_service(settings)
        try:
            report = await service.sweep()
        finally:
            await service.db.close()
        print(f"expired {report.lots} lots of {report.members} members ({report.credits} credits); "
              f"pruned {report.keys_pruned} idempotency keys")
        return 0

    return asyncio.run(run())


def _check(args: argparse.Namespace) -> int:
    return _violations(backend(_settings(args)))


def _violations(database: Backend) -> int:
    """Print every violation in the database (read-only: a check never writes, not even a schema); 1 if any."""
    from .domain.policy import Policy
    from .service.check import find_violations

    with database.reader() as r:
        problems = database.integrity_problems(r) + find_violations(r, Policy())
    for problem in problems:
        print(problem)
    print(f"{len(problems)} violation(s) in {database.describe()}")
    return 1 if problems else 0


def _export(args: argparse.Namespace) -> int:
    from .api import export, scalars
    from .service.history import export_pages

    member_id = ids.member_id(args.member)
    if member_id is None:
        raise CommandError(f"--member takes a member's ID as the API returns it, not {args.member!r}")
    try:
        since = scalars.parse(args.since) if args.since is not None else 0
    except ValueError as exc:
        raise CommandError(f"--since: {exc}") from None
    with backend(_settings(args)).reader() as r:  # read-only, a page of entries at a time
        if (pages := export_pages(r, member_id, since)) is None:
            raise CommandError(f"no member {args.member} in this database")
        export.write(pages, args.format, sys.stdout)
    return 0


def _events(args: argparse.Namespace) -> int:
    """`events tail`: every event as it commits, one JSON object a line, until interrupted."""
    from .service.events import follow, unknown_types

    types = [t.strip().upper() for t in args.types.split(",") if t.strip()] if args.types else None
    if unknown := unknown_types(types):
        raise CommandError(f"--types: unknown {', '.join(unknown)}")
    with backend(_settings(args)).reader() as r:  # read-only
        for line in follow(r, types, from_start=args.from_start, once=args.once, interval=args.interval):
            print(line, flush=True)
    return 0


def _backup(args: argparse.Namespace) -> int:
    print(backend(_settings(args)).backup(Path(args.path)))
    return 0


def _copy(args: argparse.Namespace) -> int:
    from .store.copy import Copied, copy_sqlite_to_postgres

    settings = Settings.from_env({}, db_url=args.to, db_path=Path(args.source))
    if not settings.postgres:
        raise CommandError(f"--to takes a postgresql:// URL, not {args.to!r}")

    def report(copied: Copied) -> None:
        rate = copied.rows / copied.seconds if copied.seconds > 0 else 0.0
        print(f"{copied.table:<18} {copied.rows:>10,} rows in {copied.seconds:6.1f} s ({rate:,.0f} rows/s)",
              flush=True)

    copied = copy_sqlite_to_postgres(Path(args.source), args.to, report=report)
    target = backend(settings)
    print(f"copied {sum(c.rows for c in copied):,} rows from {args.source} to {target.describe()}; checking it")
    return _violations(target)


def _demo(args: argparse.Namespace) -> int:
    from .demo import print_tokens, seed

    settings = _settings(args)
    if args.fresh:
        _start_over(settings)
    try:
        backend(settings.with_(test_clock=False)).prepare()  # the demo moves its own test clock through its story
    except StoreError as exc:
        raise CommandError(f"{exc} (`invite-credits demo --fresh` starts the demo over)") from None
    print_tokens(settings, asyncio.run(seed(settings)))
    return 0


def _start_over(settings: Settings) -> None:
    """demo --fresh: the SQLite file (with its -wal and -shm) is removed before the demo is seeded anew."""
    if settings.postgres:
        raise CommandError("--fresh removes a SQLite file; for PostgreSQL, create a new database and give its URL")
    from .store.sqlite.files import check_database_path

    if settings.db_path.exists():
        check_database_path(settings.db_path, writable=True)  # only a SQLite file is ever removed
    for path in (settings.db_path, *(settings.db_path.with_name(settings.db_path.name + s) for s in ("-wal", "-shm"))):
        path.unlink(missing_ok=True)


def _export_schema(args: argparse.Namespace) -> int:
    from .api.schema import create_schema

    text = str(create_schema()).rstrip() + "\n"
    if args.output == "-":
        sys.stdout.write(text)
    else:
        try:
            Path(args.output).write_text(text, encoding="utf-8")
        except OSError as exc:
            raise CommandError(f"cannot write {args.output}: {exc.strerror or exc}") from None
    return 0


def _version() -> str:
    try:
        return version("invite-credits")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown"


# name, one line of help, runner: the docs test checks that each command is in the README.
COMMANDS: dict[str, tuple[str, Callable[[argparse.Namespace], int]]] = {
    "serve": ("serve GraphQL on /graphql (GraphiQL in a browser), /healthz, /readyz and /metrics", _serve),
    "demo": ("seed a demo and print tokens to paste into GraphiQL", _demo),
    "migrate": ("create the database, or migrate it to this version's schema", _migrate),
    "token": ("print a token for a member, or an admin token", _token),
    "expire": ("write every due expiry once and print what was written", _expire),
    "check": ("verify every invariant over the whole database; exit 1 on any violation", _check),
    "events": ("events tail: print events as they commit, one JSON object a line (NDJSON)", _events),
    "export": ("print a member's ledger, oldest entry first, as CSV or NDJSON", _export),
    "backup": ("copy the live database to a new file (SQLite online backup; pg_dump on PostgreSQL)", _backup),
    "copy": ("copy a whole SQLite database into an empty PostgreSQL database, then check it", _copy),
    "export-schema": ("print or write the GraphQL schema (SDL)", _export_schema),
}


def build_parser() -> argparse.ArgumentParser:
    from .settings import ENVIRONMENT

    parser = argparse.ArgumentParser(prog="invite-credits", description=__doc__,
                                     epilog="Settings come from INVITE_CREDITS_* environment variables: see "
                                            "`invite-credits serve --help` and docs/operations.md.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", title="commands")
    parsers = {name: sub.add_parser(name, help=text, description=text) for name, (text, _) in COMMANDS.items()}
    parsers["serve"].epilog = ("environment (every setting, with its default and bounds, in docs/operations.md, "
                               "\"Settings\"; a bad value stops serve in one line):\n  "
                               + "\n  ".join(sorted(ENVIRONMENT)))
    parsers["serve"].formatter_class = argparse.RawDescriptionHelpFormatter
    for name, (_, run) in COMMANDS.items():
        parsers[name].set_defaults(run=run)
        if name not in ("export-schema", "copy"):
            parsers[name].add_argument("--db", metavar="PATH|URL",
                                       help="SQLite database file, or a postgresql:// URL (default: "
                                            "$INVITE_CREDITS_DB or ./invite-credits.db)")

    serve = parsers["serve"]
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="TCP port, 1 to 65535 (default 8000)")
    serve.add_argument("--workers", type=int, default=1,
                       help="server processes sharing the database, each with its own socket (default 1)")

    token = parsers["token"]
    token.add_argument("member_id", nargs="?", metavar="MEMBER_ID", help="the member's ID as the API returns it")
    token.add_argument("--admin", action="store_true", help="an admin token (acting as MEMBER_ID when given)")
    token.add_argument("--revoke", action="store_true",
                       help="sign MEMBER_ID out everywhere instead: every token issued before is refused")

    copy = parsers["copy"]
    copy.add_argument("--from", dest="source", required=True, metavar="PATH", help="the SQLite database file")
    copy.add_argument("--to", required=True, metavar="URL", help="an empty PostgreSQL database (postgresql://...)")

    parsers["demo"].add_argument("--fresh", action="store_true",
                                 help="start over: remove the SQLite file (and its -wal, -shm) first")
    tail = parsers["events"]
    tail.add_argument("action", choices=("tail",), help="tail: follow the events as they commit")
    tail.add_argument("--types", metavar="TYPE,...", help="only these event types (comma-separated)")
    tail.add_argument("--from-start", action="store_true", help="from the oldest event kept, not from now")
    tail.add_argument("--once", action="store_true", help="print what there is and stop (no following)")
    tail.add_argument("--interval", type=float, default=0.5, help="seconds between looks (default 0.5)")
    export = parsers["export"]
    export.add_argument("--member", required=True, metavar="ID", help="the member's ID as the API returns it")
    export.add_argument("--format", choices=("csv", "ndjson"), default="csv", help="csv (default) or ndjson")
    export.add_argument("--since", metavar="TIME", help="only entries from this ISO-8601 time on")
    parsers["backup"].add_argument("path", metavar="PATH", help="the new file to write the copy to")
    parsers["export-schema"].add_argument("output", nargs="?", default="-", metavar="FILE",
                                          help="file to write, or - for standard output (default)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        code: int = args.run(args)
    except (CommandError, SettingsError, StoreError) as exc:
        print(f"invite-credits {args.command}: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `invite-credits demo | head -1`: the reader left; say nothing more
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    return code


if __name__ == "__main__":
    raise SystemExit(main())
