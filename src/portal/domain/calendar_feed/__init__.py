"""The family's private calendar feed (ICS): one event per accepted booking."""
