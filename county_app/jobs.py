"""Background jobs. The scheduler starts only from ``serve``, never from create_app or tests."""
import logging

from apscheduler.schedulers.background import BackgroundScheduler

log = logging.getLogger(__name__)


def start(app):
    """Start the scheduler for ``app``'s node and return it (``serve`` shuts it down)."""
    scheduler = BackgroundScheduler(timezone="Asia/Shanghai")
    scheduler.start()
    return scheduler
