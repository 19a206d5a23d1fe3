"""The nightly transmission: requests made final, exported and reported to families."""
