"""`make bench`: per-turn latency and throughput of Rapport against Rasa's starter bot."""
