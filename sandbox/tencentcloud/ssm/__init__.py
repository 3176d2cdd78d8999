"""Secrets Manager (SSM v20190923) in the sandbox: user secrets with versions, per account."""
