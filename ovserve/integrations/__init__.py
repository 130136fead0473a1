"""Optional integrations with other serving systems.

Each subpackage needs its own extra (`pip install ovserve[ray]` for `ovserve.integrations.ray`)
and is never imported by the server itself; this package root imports nothing.
"""
