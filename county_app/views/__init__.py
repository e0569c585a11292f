"""Web pages: one blueprint per module, each named ``bp``."""


def register_views(app):
    from . import auth, browse, catalogue, errors

    for module in (auth, browse, catalogue):
        app.register_blueprint(module.bp)
    errors.register(app)
