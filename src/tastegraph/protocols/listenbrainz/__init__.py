"""The ListenBrainz API v1 at ``/1/``, so liblistenbrainz's ``api_base_url`` works unchanged."""
