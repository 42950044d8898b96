"""Who is calling: tokens the service signs (`tokens.py`), and tokens a company's identity provider signs
(`identity.py`: its keys, fetched and cached), both mapped to an `Actor` by the `Authenticator`."""

from .tokens import (
    ADMIN_SUBJECT,
    Authenticator,
    admin_token,
    check_identity_provider,
    expiry_text,
    load_secret,
    member_token,
    mint,
    secret_path,
)

__all__ = ["ADMIN_SUBJECT", "Authenticator", "admin_token", "check_identity_provider", "expiry_text", "load_secret",
           "member_token", "mint", "secret_path"]
