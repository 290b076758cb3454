"""`python -m services.scoring`: run the scoring service until SIGINT/SIGTERM."""

import asyncio

from services.scoring.main import ScoringSettings, build_app

if __name__ == "__main__":
    asyncio.run(build_app(ScoringSettings()).run())
