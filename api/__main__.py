"""`python -m api`: serve the API with uvicorn on ERRAND_HOST:ERRAND_PORT."""

from __future__ import annotations

import uvicorn

from api.app import create_app
from providers.logs import configure_logging
from providers.settings import Settings


def main() -> None:
    settings = Settings()
    configure_logging(settings.log_level, settings.log_json)
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_config=None,
        access_log=False,
        proxy_headers=False,
        timeout_graceful_shutdown=int(settings.shutdown_grace_seconds),
    )


if __name__ == "__main__":
    main()
