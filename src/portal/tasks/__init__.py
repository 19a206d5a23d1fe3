"""Dramatiq actors and the processes that run them.

Import `portal.tasks.broker` before any actor module (the actor modules do it themselves).
"""
