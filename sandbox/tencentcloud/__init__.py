"""Tencent Cloud sandbox: CAM, STS and DTS emulated over HTTP for the real SDK (see server.py)."""
