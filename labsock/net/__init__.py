"""The network layer: sockets, threads and processes. What it returns is data."""
