"""invite-credits: serve, migrate, token, expire, export-schema."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path

from . import auth, ids
from .settings import Settings


def _settings(args: argparse.Namespace) -> Settings:
    return Settings.from_env(db_path=Path(args.db) if getattr(args, "db", None) else None)


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from .app import create_app
    from .observability import configure_logging

    settings = _settings(args).with_(host=args.host, port=args.port)
    configure_logging(settings.log_level)
    print(f"invite-credits: GraphQL (and GraphiQL) on http://{settings.host}:{settings.port}/graphql "
          f"database {settings.db_path.resolve()}", file=sys.stderr)
    if args.workers > 1:
        if settings.test_clock:
            print("the test clock needs one worker: it lives in the process", file=sys.stderr)
            return 2
        # Worker processes build their app from the environment; WAL lets them share the file.
        os.environ["INVITE_CREDITS_DB"] = str(settings.db_path.resolve())
        os.environ.setdefault("INVITE_CREDITS_JWT_SECRET", auth.load_secret(settings))
        uvicorn.run("invite_credits.app:app_from_env", factory=True, workers=args.workers, host=settings.host,
                    port=settings.port, log_level="warning", access_log=False, lifespan="on")
        return 0
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_level="warning",
                access_log=False, lifespan="on")
    return 0


def _migrate(args: argparse.Namespace) -> int:
    from .store.database import connect
    from .store.migrations import migrate, schema_version

    settings = _settings(args)
    conn = connect(settings.db_path, settings.synchronous)
    applied = migrate(conn)
    print(f"schema version {schema_version(conn)}; applied {applied or 'nothing'}")
    conn.close()
    return 0


def _token(args: argparse.Namespace) -> int:
    settings = _settings(args)
    secret = auth.load_secret(settings)
    member_id = None
    if args.member_id:
        member_id = ids.member_id(args.member_id)
        if member_id is None and args.member_id.isdigit():
            member_id = int(args.member_id)
        if member_id is None:
            print(f"not a member ID: {args.member_id}", file=sys.stderr)
            return 2
    if args.admin:
        print(auth.admin_token(secret, settings.admin_token_ttl_seconds, member_id))
    elif member_id is None:
        print("give a MEMBER_ID, or --admin", file=sys.stderr)
        return 2
    else:
        print(auth.member_token(secret, member_id, settings.member_token_ttl_seconds))
    return 0


def _expire(args: argparse.Namespace) -> int:
    from .app import open_service

    async def run() -> int:
        service = await open_service(_settings(args))
        try:
            report = await service.sweep()
        finally:
            await service.db.close()
        print(f"expired {report.lots} lots of {report.members} members ({report.credits} credits); "
              f"pruned {report.keys_pruned} idempotency keys")
        return 0

    return asyncio.run(run())


def _check(args: argparse.Namespace) -> int:
    from .check import find_violations
    from .domain.policy import Policy
    from .store.database import connect
    from .store.migrations import migrate
    from .store.queries import load_queries

    settings = _settings(args)
    if not settings.db_path.exists():
        print(f"no database at {settings.db_path}", file=sys.stderr)
        return 2
    conn = connect(settings.db_path, settings.synchronous)
    try:
        migrate(conn)
        problems = find_violations(conn, load_queries(), Policy())
    finally:
        conn.close()
    for problem in problems:
        print(problem)
    print(f"{len(problems)} violation(s) in {settings.db_path}")
    return 1 if problems else 0


def _backup(args: argparse.Namespace) -> int:
    import sqlite3

    from .store.database import connect

    settings = _settings(args)
    target = Path(args.path)
    if target.exists():
        print(f"{target} exists: give a new file", file=sys.stderr)
        return 2
    source = connect(settings.db_path, settings.synchronous)
    dest = sqlite3.connect(target)
    try:
        # One step under one read transaction: a consistent copy while the server keeps writing.
        source.backup(dest)
        dest.execute("PRAGMA journal_mode = WAL")
    finally:
        dest.close()
        source.close()
    print(f"backed up {settings.db_path} to {target}")
    return 0


def _demo(args: argparse.Namespace) -> int:
    from .demo import print_tokens, seed

    settings = _settings(args)
    print_tokens(settings, asyncio.run(seed(settings)))
    return 0


def _export_schema(args: argparse.Namespace) -> int:
    from .api.schema import create_schema

    text = str(create_schema()).rstrip() + "\n"
    if args.output == "-":
        sys.stdout.write(text)
    else:
        Path(args.output).write_text(text, encoding="utf-8")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="invite-credits", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    def with_db(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
        p.add_argument("--db", help="SQLite file (default: $INVITE_CREDITS_DB or ./invite-credits.db)")
        return p

    serve = with_db(sub.add_parser("serve", help="serve GraphQL on /graphql and GET /healthz"))
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1, help="server processes sharing the database (default 1)")
    serve.set_defaults(run=_serve)

    with_db(sub.add_parser("migrate", help="create or migrate the database")).set_defaults(run=_migrate)

    token = with_db(sub.add_parser("token", help="print a token for a member, or an admin token"))
    token.add_argument("member_id", nargs="?", metavar="MEMBER_ID")
    token.add_argument("--admin", action="store_true", help="an admin token")
    token.set_defaults(run=_token)

    with_db(sub.add_parser("expire", help="write every due expiry once and print what was written")).set_defaults(run=_expire)

    with_db(sub.add_parser("check", help="verify every invariant over the whole database")).set_defaults(run=_check)

    backup = with_db(sub.add_parser("backup", help="copy the live database to PATH (SQLite online backup)"))
    backup.add_argument("path", metavar="PATH")
    backup.set_defaults(run=_backup)

    with_db(sub.add_parser("demo", help="seed a demo and print tokens to paste into GraphiQL")).set_defaults(run=_demo)

    export = sub.add_parser("export-schema", help="print the GraphQL schema (SDL)")
    export.add_argument("output", nargs="?", default="-", help="file to write, or - for stdout")
    export.set_defaults(run=_export_schema)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    code: int = args.run(args)
    return code


if __name__ == "__main__":
    raise SystemExit(main())
