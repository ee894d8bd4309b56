"""Pure logic: no sockets, threads, processes or files. Tested with plain data."""
