"""spaCy pipeline builder for Rasa's SpacyNLP (built offline from shop vocabulary)."""
