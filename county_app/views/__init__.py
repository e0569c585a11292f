"""Web pages: one blueprint per module, each named ``bp``."""
from ..text import shown


def register_views(app):
    from . import (auth, backups, browse, case_actions, cases, catalogue, errors, health, intake, notices, reports,
                   settings, sync)

    app.add_template_filter(shown)  # a page that repeats what was typed (a search) repeats only its start

    for module in (auth, browse, catalogue, reports, notices, intake, cases, case_actions, settings, backups,
                   health, sync):
        app.register_blueprint(module.bp)
    errors.register(app)
