"""Rasa input channels: translate platform payloads to UserMessage, verify, guard."""
