"""Web pages: one blueprint per module, each named ``bp``."""


def register_views(app):
    from . import auth, browse, case_actions, cases, catalogue, errors, intake, notices, reports

    for module in (auth, browse, catalogue, reports, notices, intake, cases, case_actions):
        app.register_blueprint(module.bp)
    errors.register(app)
