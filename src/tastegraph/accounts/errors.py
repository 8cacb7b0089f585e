"""Account errors.

AccountError
├── NotAuthenticated        no or unknown credentials
├── InvalidCredentials      wrong name or password
├── PermissionDenied        authenticated, but not allowed
├── UserNotFound            no such user, or not visible to the caller
├── NameTaken
├── InvalidAccountData
└── TokenNotFound
"""

from __future__ import annotations

from tastegraph.errors import TastegraphError


class AccountError(TastegraphError):
    code = "account_error"


class NotAuthenticated(AccountError):
    code = "not_authenticated"
    title = "Authentication required"


class InvalidCredentials(AccountError):
    code = "invalid_credentials"
    title = "Wrong user name or password"


class PermissionDenied(AccountError):
    code = "permission_denied"
    title = "Not allowed"


class UserNotFound(AccountError):
    code = "user_not_found"
    title = "No such user"


class NameTaken(AccountError):
    code = "name_taken"
    title = "That user name is taken"


class InvalidAccountData(AccountError):
    code = "invalid_account_data"
    title = "Invalid account data"


class TokenNotFound(AccountError):
    code = "token_not_found"
    title = "No such token"
