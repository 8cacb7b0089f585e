"""The web front end: server-rendered pages (Jinja2) with a little progressive JavaScript.

``install.install_ui(app)`` builds the page state, mounts ``/static`` and includes every page
family's router from ``routes/`` with the CSRF check. See docs/web.md.
"""
