"""Adapters to other processes and files: Rasa's HTTP API, secrets, chat sessions, content."""
