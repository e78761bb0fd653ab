"""Use cases (verification, wallet actions) over small ports."""
