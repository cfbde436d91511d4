"""The worker: pulls attempts from JetStream queues; runs each in a supervised child process."""
