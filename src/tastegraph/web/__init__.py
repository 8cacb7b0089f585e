"""The web edge: the native JSON API, pages, and the app factory."""
