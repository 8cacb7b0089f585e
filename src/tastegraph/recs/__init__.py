"""Recommendations: models behind one interface, artifacts, serving and evaluation.

See docs/recs.md. ``components`` defines the contract every model implements; ``data`` builds
the user x item matrices they learn from; ``artifacts`` writes and reads trained versions;
``serving`` loads the current one in a server process; ``services`` answers the API.
"""
