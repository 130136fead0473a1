"""Built-in ovserve calculators; importing this package registers them."""
