"""Web pages: one blueprint per module, each named ``bp``."""


def register_views(app):
    from . import auth, browse, catalogue, errors, reports

    for module in (auth, browse, catalogue, reports):
        app.register_blueprint(module.bp)
    errors.register(app)
