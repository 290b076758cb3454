"""`python -m services.evidence`: run the evidence service until SIGINT/SIGTERM."""

import asyncio

from services.evidence.main import EvidenceSettings, build_app

if __name__ == "__main__":
    asyncio.run(build_app(EvidenceSettings()).run())
