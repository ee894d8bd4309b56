"""One task's helpers: what a lab notebook calls that belongs to no other layer."""
