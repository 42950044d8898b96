"""The build backend: setuptools' own, refusing a wheel that would lack GraphiQL's files.

The wheel carries GraphiQL's browser files (web/graphiql's npm install) so that the playground works offline.
Built from a clone where they were never installed, the page would wait on "Loading..." for a CDN it cannot
reach; so that build stops, saying how to get them, unless INVITE_CREDITS_BUILD_WITHOUT_GRAPHIQL=1 asks for a
wheel whose playground loads them from the CDN (and says so on the page).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from setuptools import build_meta
from setuptools.build_meta import *  # noqa: F403 - every hook but build_wheel is setuptools' own

_ASSET = Path(__file__).resolve().parents[1] / "src" / "invite_credits" / "graphiql_assets" / "graphiql" / "graphiql.min.js"
ALLOW = "INVITE_CREDITS_BUILD_WITHOUT_GRAPHIQL"


def build_wheel(wheel_directory: str, config_settings: dict[str, Any] | None = None,
                metadata_directory: str | None = None) -> str:
    if not _ASSET.is_file():
        if os.environ.get(ALLOW) != "1":
            raise SystemExit(f"invite-credits: GraphiQL's files are missing, so the wheel's playground would not work "
                             f"offline: run `npm ci --prefix web/graphiql` (or `scripts/setup`) first, or set {ALLOW}=1 "
                             "for a wheel whose playground loads them from the CDN")
        print(f"invite-credits: {ALLOW}=1: building without GraphiQL's files; the playground will load them from "
              "the CDN", file=sys.stderr)
    return str(build_meta.build_wheel(wheel_directory, config_settings, metadata_directory))
