"""Rasa custom actions: read the tracker, call one service, return events."""
