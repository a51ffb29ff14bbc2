"""Property-based fuzzing (hypothesis) of every HTTP endpoint and message path of one real stack."""
