"""Optional sign-in (OIDC through ``st.login``) and our allow-list of users.

- **No ``[auth]`` section in ``secrets.toml``:** the app is open, which is acceptable only because
  ``outcomes serve`` binds to 127.0.0.1 (the person at this machine). When the server listens on
  another interface without sign-in, every page shows a warning.
- **``[auth]`` configured:** visitors must sign in with the identity provider; Streamlit only
  *authenticates*. We *authorise*: the signed-in e-mail must be in ``[access] allowed_users``
  (exact addresses) or end with one of ``[access] allowed_domains`` (``@clinic.example``).
  An empty allow-list admits nobody, so a half-configured deployment fails closed.

Example ``dashboard/.streamlit/secrets.toml`` (never committed)::

    [auth]
    redirect_uri = "https://outcomes.clinic.example/oauth2callback"
    cookie_secret = "..."
    client_id = "..."
    client_secret = "..."
    server_metadata_url = "https://login.example/.well-known/openid-configuration"

    [access]
    allowed_users = ["dr.lee@clinic.example"]
    allowed_domains = ["@qi.clinic.example"]
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import streamlit as st

LOCAL_ADDRESSES = {"127.0.0.1", "localhost", "::1", ""}


def _secrets_section(name: str) -> Mapping[str, Any]:
    try:
        return st.secrets.get(name, {}) or {}
    except (FileNotFoundError, KeyError, AttributeError, ValueError):
        # No secrets.toml at all: Streamlit raises rather than returning an empty mapping.
        return {}
    except Exception:
        return {"_invalid": True}


def auth_configured() -> bool:
    return bool(_secrets_section("auth"))


def is_allowed(email: str | None, allowed_users: Iterable[str], allowed_domains: Iterable[str]) -> bool:
    """Is this signed-in e-mail on the allow-list? Comparison is case-insensitive and exact."""
    if not email:
        return False
    address = email.strip().lower()
    if address in {u.strip().lower() for u in allowed_users}:
        return True
    return any(
        d.strip().lower().startswith("@") and address.endswith(d.strip().lower())
        for d in allowed_domains
    )


def require_user() -> None:
    """Stop the script unless the visitor may see the pages (see module docstring)."""
    if not auth_configured():
        address = str(st.get_option("server.address") or "")
        if address not in LOCAL_ADDRESSES:
            st.warning(
                f"This dashboard listens on {address} without sign-in. Configure [auth] in "
                "secrets.toml or serve it on 127.0.0.1 behind a proxy.",
                icon=":material/lock_open:",
            )
        return
    user = st.user
    if not getattr(user, "is_logged_in", False):
        st.title("Psych outcomes")
        st.write("Sign in with your clinic account to see outcomes data.")
        st.button("Sign in", on_click=st.login, type="primary", icon=":material/login:")
        st.stop()
    access = _secrets_section("access")
    email = user.get("email") if hasattr(user, "get") else None
    if not is_allowed(email, access.get("allowed_users", []), access.get("allowed_domains", [])):
        st.error(f"{email or 'This account'} is signed in but not on this dashboard's access list. "
                 "Ask the clinic's data lead to add you.")
        st.button("Sign out", on_click=st.logout)
        st.stop()
    with st.sidebar:
        st.caption(f"Signed in as {email}")
        st.button("Sign out", on_click=st.logout, key="sign_out")


def current_user():  # type: ignore[no-untyped-def]
    """The role the pages act as (``queries.access``): the signed-in e-mail's entry in
    ``[roles.users]`` of ``outcomes.toml``, else leadership for a stranger; without sign-in,
    ``[roles] dashboard`` (default leadership: aggregates only)."""
    from queries.access import user_for

    email = None
    if auth_configured():
        user = st.user
        if getattr(user, "is_logged_in", False):
            email = user.get("email") if hasattr(user, "get") else None
    return user_for(email, "dashboard")
