"""govshare — 政务信息资源共享平台 (government information resource sharing platform)."""

__version__ = "0.1.0"
