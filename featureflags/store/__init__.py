"""Snapshot publishing and loading: database -> Redis -> each process's memory.

``runtime`` holds this process's snapshot and keeps it current; ``database``
reads definitions from the models; ``redis_mirror`` publishes and reads them in
Redis.
"""
