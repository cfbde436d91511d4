"""flowcli: the command line of Flow. Client commands talk to the gateway's public gRPC API."""
