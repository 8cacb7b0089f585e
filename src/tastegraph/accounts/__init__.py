"""Accounts: users, their settings and consent, and API tokens."""
