"""`python -m services.audit`: run the audit service until SIGINT/SIGTERM."""

import asyncio

from services.audit.main import AuditSettings, build_app

if __name__ == "__main__":
    asyncio.run(build_app(AuditSettings()).run())
