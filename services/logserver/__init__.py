"""The log service: one durable file per attempt, served by range and followed live."""
