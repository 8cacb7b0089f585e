"""Last.fm Web Services 2.0 at ``/2.0/``, with its auth flows and approval page."""
