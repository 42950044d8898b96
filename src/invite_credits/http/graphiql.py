"""GraphiQL that works without internet: the page's CDN files, served from the npm install in web/graphiql.

Strawberry's page loads exact versions from unpkg with integrity hashes. When the same
package version is installed locally, its URL is pointed at our own static route; the
integrity hash stays, so the browser still verifies every byte. Anything missing stays on
the CDN.
"""

from __future__ import annotations

import json
import re
from importlib.resources import files
from pathlib import Path

from strawberry.http.ides import get_graphql_ide_html

CDN = re.compile(r"https://unpkg\.com/((?:@[\w.-]+/)?[\w.-]+)@([\w.-]+)/([\w./-]+)")
MOUNT = "/graphiql-assets"


def assets_dir() -> Path:
    """The package's GraphiQL files: web/graphiql's npm install (linked in the source tree, copied into the wheel
    when it was installed before the build). Missing: the page loads them from the CDN."""
    return Path(str(files("invite_credits") / "graphiql_assets"))


def _installed_version(directory: Path, package: str) -> str | None:
    try:
        data = json.loads((directory / package / "package.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    version = data.get("version")
    return version if isinstance(version, str) else None


def localize(html: str, directory: Path, mount: str = MOUNT) -> tuple[str, int]:
    """The page with every CDN file that is installed locally (same version) served from `mount`.

    Returns the page and how many files stayed on the CDN.
    """
    remote = 0

    def swap(match: re.Match[str]) -> str:
        nonlocal remote
        package, version, path = match.groups()
        if _installed_version(directory, package) == version and (directory / package / path).is_file():
            return f"{mount}/{package}/{path}"
        remote += 1
        return match.group(0)

    return CDN.sub(swap, html), remote


_LOADING = '<div id="graphiql" class="graphiql-container">Loading...</div>'
CDN_NOTICE = ('<div id="graphiql" class="graphiql-container"><p style="font: 16px sans-serif; margin: 2em">'
              "Loading GraphiQL from the CDN (unpkg.com): this playground needs internet access, because this "
              "installation has no copy of its files. For an offline playground, install them: "
              "<code>npm ci --prefix web/graphiql</code> in the source tree, then reinstall.</p></div>")


def needs_cdn(html: str) -> str:
    """The page saying, until GraphiQL replaces it, that it loads from the CDN (offline it would never load)."""
    return html.replace(_LOADING, CDN_NOTICE, 1)


EXAMPLE = """# invite-credits. Put a token in Headers below as {"Authorization": "Bearer ..."}
# (`invite-credits demo` prints some; signUp returns one). Run with Ctrl-Enter.

query Viewer {
  viewer {
    name
    balance { id available expiringSoon nextExpiryAt asOf }
    ledger(first: 10) {
      edges { node { id occurredAt reason amount requested balanceAfter note hash reversedBy { id } } }
      pageInfo { hasNextPage endCursor }
    }
  }
}

# Admins correct without editing: reverse an entry (an ID from the ledger above) with a reason. The payload
# has the REVERSAL entry, the entry it reversed (now linked back) and the member's live balance.
mutation Reverse($entryId: ID!) {
  reverseLedgerEntry(input: {entryId: $entryId, reason: "Support ticket: sent by mistake"}) {
    ledgerEntry { id reason amount reverses { id } }
    reversed { id reversedBy { id } }
    balance { id available }
    userErrors { code message field }
  }
}

# Live over WebSocket (graphql-transport-ws): the balance now, then after every change.
subscription LiveBalance {
  balanceChanged { id available expiringSoon asOf }
}
"""
_EXAMPLE_QUERY = re.compile(r"const EXAMPLE_QUERY = `.*?`;", re.S)


def with_example(html: str) -> str:
    """The page opening on this service's own example document instead of GraphiQL's generic welcome text."""
    literal = EXAMPLE.replace("\\", "\\\\").replace("`", "\\`").replace("${", "\\${")
    return _EXAMPLE_QUERY.sub(lambda _: f"const EXAMPLE_QUERY = `{literal}`;", html, count=1)


def page() -> tuple[str, int]:
    """The GraphiQL page this service serves: Strawberry's, opening on the example, its files served from
    web/graphiql when installed; and how many still load from the CDN."""
    html, remote = localize(with_example(get_graphql_ide_html("graphiql")), assets_dir())
    return (needs_cdn(html) if remote else html), remote
