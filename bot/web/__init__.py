"""The web app on :8000: the web chat page (and, later, the console and JSON API)."""
