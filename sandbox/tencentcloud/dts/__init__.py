"""DTS (v20211206) in the sandbox: migration jobs, their checks and status machine, cross-account sources."""
