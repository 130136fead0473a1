"""Generated protobuf package (do not edit); regenerate with `make proto`."""
