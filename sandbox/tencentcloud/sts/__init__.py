"""STS (v20180813) emulation: AssumeRole temporary credentials, GetCallerIdentity."""
