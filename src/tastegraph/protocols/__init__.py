"""Protocol adapters at the edge: Last.fm 2.0, Audioscrobbler 1.2 and ListenBrainz.

Each adapter translates its wire format into ``PlayIn`` submissions for
``IngestService.record`` and renders results in its own format; reads go through the
stats and catalogue services. They stand beside ``web``, above every area.
"""
