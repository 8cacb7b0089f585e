"""The Audioscrobbler 1.2 / 1.2.1 submissions protocol: handshake, now-playing, submissions."""
