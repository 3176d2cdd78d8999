"""CAM (v20190116) emulation: roles, policies and their attachments per account."""
