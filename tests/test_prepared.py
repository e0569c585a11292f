"""Prepared queries: built once, run with new values, rows as peewee gives them."""
from datetime import date

from county_app.db import db
from county_app.models import Setting, User
from county_app.prepared import Prepared


def test_a_prepared_select_binds_new_values_each_run_and_builds_its_sql_once(app, make_user):
    make_user("li", "clerk")
    make_user("wang", "admin")
    built = []

    def build(name):
        built.append(name)
        return User.select().where(User.username == name)

    by_name = Prepared(build)
    with db.connection_context():
        assert by_name.first("li").role == "clerk"
        assert by_name.first("wang").role == "admin"
        assert by_name.first("nobody") is None
        assert [u.username for u in by_name.rows("li")] == ["li"]
    assert len(built) == 1


def test_joined_rows_scalars_and_writes(app, make_user):
    from county_app.models import ApiToken
    from county_app import accounts

    make_user("li", "clerk")
    with db.connection_context():
        token = accounts.issue_token("li", actor="test")
        with_user = Prepared(lambda prefix: ApiToken.select(ApiToken, User).join(User)
                             .where(ApiToken.prefix == prefix))
        record = with_user.first(token.prefix)
        assert record.user.username == "li"  # the joined model, without another query
        value = Prepared(lambda key: Setting.select(Setting.value).where(Setting.key == key))
        with db.atomic():
            Setting.insert(key="test.key", value="甲").execute()
        assert value.scalar("test.key") == "甲"
        assert value.scalar("no.such.key") is None
        rename = Prepared(lambda name, new: User.update(display_name=new).where(User.username == name))
        with db.atomic():
            assert rename.execute("li", "李四") == 1
            assert rename.execute("nobody", "x") == 0
        assert User.get(User.username == "li").display_name == "李四"


def test_dates_bind_as_the_column_stores_them(app):
    from county_app.models import CatalogueVersion

    after = Prepared(lambda day: CatalogueVersion.select().where(CatalogueVersion.published_on >= day))
    with db.connection_context(), db.atomic():
        CatalogueVersion.create(version="v1", sha256="0" * 64, published_on=date(2026, 3, 1))
        assert [v.version for v in after.rows(date(2026, 1, 1))] == ["v1"]
        assert after.rows(date(2026, 6, 1)) == []


def test_the_number_of_values_is_checked(app):
    import pytest

    by_name = Prepared(lambda name: User.select().where(User.username == name))
    with db.connection_context(), pytest.raises(TypeError):
        by_name.rows()
