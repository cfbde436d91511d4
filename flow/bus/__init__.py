"""NATS JetStream wiring: names in subjects.py, connections and streams in jetstream.py."""
