"""系统设置: the administrator's page for the settings declared with a ``section`` in settings.py.

The page shows every such setting under its section, in declaration order,
so a setting declared later (sync, backup) appears here without touching
this module. A POST checks every value through ``settings.change`` (the one
place that checks, stores and audits); a refusal shows each message next to
its field with what was typed, and stores nothing. A saved change takes
effect at once: every use reads the setting from the database.
"""
from flask import Blueprint, flash, redirect, render_template, request, url_for

from .. import settings
from ..guard import current_user, requires

bp = Blueprint("settings", __name__)


@bp.route("/admin/settings", methods=["GET", "POST"])
@requires("settings.manage")
def edit():
    """The settings form; POST saves the changed values (all or nothing) and comes back here."""
    sections = settings.on_page()
    values = {spec.key: settings.shown(spec.key) for _, specs in sections for spec in specs}
    errors = {}
    if request.method == "POST":
        # a field the form did not send is left as it is, and so is a secret left blank (it is never shown)
        sent = {key: request.form[key] for key in values
                if key in request.form and (request.form[key] or not settings.spec_for(key).secret)}
        try:
            changed = settings.change(sent, actor=current_user().username)
        except settings.SettingsInvalid as exc:
            errors = exc.errors
            values.update(sent)
        else:
            if changed:
                labels = "、".join(settings.spec_for(key).label or key for key in changed)
                flash(f"已保存：{labels}。已立即生效", "ok")
            else:
                flash("没有更改任何设置", "ok")
            return redirect(url_for("settings.edit"))
    secrets_set = {spec.key: bool(settings.get(spec.key)) for _, specs in sections for spec in specs if spec.secret}
    return render_template("settings/edit.html", sections=sections, values=values, errors=errors,
                           missing=settings.missing_for_cases(), secrets_set=secrets_set), (422 if errors else 200)
