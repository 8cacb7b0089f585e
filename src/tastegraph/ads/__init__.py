"""Advertising: advertisers, campaigns, line items, creatives and placements; the in-memory
decision engine (targeting, frequency caps, pacing, a first-price auction with floors and a
priority ladder); OpenRTB 2.6; beacons that count once; reporting. See docs/ads.md."""
