"""Shared data (共享数据): reading providers' files, validating values, and (later) storing records."""
