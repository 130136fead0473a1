"""Framework-free security helpers shared by the REST and gRPC front ends (API key, TLS)."""
