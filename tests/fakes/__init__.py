"""Local fakes of the platforms Rapport talks to, for tests on 127.0.0.1 only."""
