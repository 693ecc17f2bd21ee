"""Load benchmark of the chat server: `python -m bench run ...` (see bench/README.md)."""
