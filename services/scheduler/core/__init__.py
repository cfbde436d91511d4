"""The scheduling core: state machine, trigger rules, and the single writer of state.

It imports neither grpc nor nats; the servicers and bus adapters wrap it.
"""
