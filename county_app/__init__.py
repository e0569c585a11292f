"""county_app: 一件事一次办 window software for township convenience-service centres."""
from flask import Flask

from . import limits, paths
from .db import bind

__version__ = "0.1.0"


def create_app(data_dir=None, test_config=None):
    """The application for the data folder ``data_dir`` (resolved as paths.resolve_data_dir)."""
    data_dir = paths.resolve_data_dir(data_dir)
    app = Flask(
        __name__,
        instance_path=str(data_dir),
        template_folder=str(paths.templates_dir()),
        static_folder=str(paths.static_dir()),
    )
    app.config.from_mapping(
        SECRET_KEY=paths.secret_key(data_dir),
        DATA_DIR=str(data_dir),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        WTF_CSRF_CHECK_DEFAULT=False,  # guard.py protects every session-authenticated write
        WTF_CSRF_TIME_LIMIT=None,  # a clerk's form may stay open all day
        MAX_CONTENT_LENGTH=limits.BODY_LIMIT,  # raised per route by limits.py (uploads)
    )
    app.json.ensure_ascii = False  # Chinese stays readable in API answers
    if test_config:
        app.config.update(test_config)

    database = bind(data_dir)
    limits.install_converters(app)

    @app.before_request
    def _connect():
        database.connect(reuse_if_open=True)

    limits.init_app(app)  # before the guard: its CSRF check reads the body

    @app.teardown_request
    def _close(exc):
        if not database.is_closed():
            database.close()

    from . import guard
    from .api import bp as api_bp
    from .views import register_views

    guard.init_app(app)
    app.register_blueprint(api_bp)
    register_views(app)
    return app
