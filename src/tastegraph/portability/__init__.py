"""Data portability: importing play histories and exporting a user's complete data.

Sits above the areas (it reads accounts, catalogue, plays and friendships), beside web and cli.
"""
