"""The only package that knows which database it talks to: the Store protocol, typed rows, and gateways per
area (members, lots, ledger, invitations, connections, companies, contacts, discussions, idempotency,
identities, clock). The SQLite implementation is in store/sqlite/."""
