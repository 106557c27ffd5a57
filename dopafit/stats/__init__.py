"""Statistics: simulation-calibrated comparison of accounts, decoding, task statistics."""
