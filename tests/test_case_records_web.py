"""What the case page and the boards say about a case, through the real server (issue 9 items 13 and 14).

13: a due-soon mark belongs to the item it describes — a case due in a week is not 即将到期 because
one of its 即办 items is due today.
14: the 办理记录 and the 操作日志 speak Chinese (no codes, no JSON) through one table of words; each
view of a full ID number is in the 操作日志; a stored scan opens from the case page for whoever may
see the case, and for nobody else (404).
"""
import json
import re
from pathlib import Path

from county_app.db import db
from county_app.intake import cases, materials, outcomes, workflow
from county_app.intake.errors import Conflict
from county_app.intake.records import CaseItem, CaseMaterial
from county_app.models import User

from conftest import serving
from test_cases_domain import MOTHER_ID, newborn
from test_notices import hand_in_all_but_marriage_certificate, register, restaurant, window  # noqa: F401
from web_client import WebClient


def text_of(html):
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def accepted_today(window):
    """Story 1 accepted today: four 即办 items due today, 社会保障卡申领 in five working days."""
    case = register(window)
    hand_in_all_but_marriage_certificate(case.case_no, window.clerk)
    materials.log_material(case.case_no, "JHZ", "original_verified", actor=window.clerk, copies=1)
    workflow.accept_case(case.case_no, actor=window.clerk)
    return case.case_no


def test_a_case_due_in_a_week_is_not_due_soon_because_an_instant_item_is(window, seeded_app):
    case_no = accepted_today(window)
    with serving(seeded_app) as url:
        clerk = WebClient(url)
        clerk.login("li")
        status, _, html = clerk.get(f"/cases/{case_no}")
        assert status == 200
        head = text_of(html.split('<header class="case-head">', 1)[1].split("</header>", 1)[0])
        assert "承诺办结日期" in head and "即将到期" not in head  # the case is due in five working days
        items = html.split('<h2 id="items">', 1)[1].split("</table>", 1)[0]
        rows = {re.search(r'id="item-([^"]+)"', row).group(1): text_of(row) for row in items.split("<tr")[2:]}
        assert all("即将到期" in rows[code] for code in ("WJ-0101", "WJ-0102", "GA-0101", "WJ-0103"))
        assert "即将到期" not in rows["RS-0101"]
        # The search list marks the case by its own due date only.
        status, _, found = clerk.get(f"/cases?q={case_no}")
        row = text_of(found.split(f">{case_no}</a>", 1)[1].split("</tr>", 1)[0])
        assert status == 200 and "即将到期" not in row
        # The 逾期督办 board lists the items due soon, each with its own mark; the case has none.
        status, _, board = clerk.get("/cases/overdue")
        soon = board.split("即将到期：两个工作日内", 1)[1]
        entry = soon.split(f">{case_no}</a>", 1)[1].split("</tr>", 1)[0]
        assert "办件" not in text_of(entry).split("·")[0]
        lines = [text_of(li) for li in re.findall(r"<li>.*?</li>", entry, re.S)]
        assert len(lines) == 4 and all("即将到期" in line for line in lines)
        assert "社会保障卡申领" not in text_of(entry)


# --- 14: readable records -----------------------------------------------------------------------

CODE_WORD = re.compile(r"[a-z_]{4,}|[{}\"]")  # a status or action code, or JSON


def raw_codes(text):
    """The codes of the records (kinds, record types, detail keys, statuses) or JSON left in ``text``."""
    from county_app import record_words

    codes = set(record_words.AUDIT_ACTIONS) | set(record_words.EVENT_ACTIONS) | set(record_words.ENTITIES)
    codes |= set(record_words.DETAIL_KEYS) | {"original_verified", "approved", "mail", "true", "false", "null"}
    found = [code for code in codes if re.search(rf"(?<![\w.]){re.escape(code)}(?![\w])", text)]
    return found + re.findall(r'[{}"]', text)


def history_text(html):
    return text_of(html.split('<h2 id="history">', 1)[1].split("</table>", 1)[0])


def a_full_story(window):
    """Story 1 through 补正, 受理, a suspension, results, delivery and a bad rating: every kind of event."""
    case = register(window)
    hand_in_all_but_marriage_certificate(case.case_no, window.clerk)
    try:
        workflow.accept_case(case.case_no, actor=window.clerk)
    except Conflict:
        pass
    materials.log_material(case.case_no, "JHZ", "original_verified", actor=window.clerk, copies=1)
    workflow.accept_case(case.case_no, actor=window.clerk)
    workflow.suspend_item(case.case_no, "RS-0101", "检验", actor=window.clerk, note="照片复核", on_behalf=True)
    workflow.resume_item(case.case_no, "RS-0101", actor=window.clerk, on_behalf=True)
    for item in CaseItem.select().where(CaseItem.case == case.id):
        outcomes.record_result(case.case_no, item.matter_code, "approved", actor=window.clerk, result_no="R-1", on_behalf=True)
    outcomes.deliver_case(case.case_no, "mail", actor=window.clerk, tracking_no="SF1234567890")
    outcomes.evaluate_case(case.case_no, 2, actor=window.clerk, comment="排队太久")
    return case


def test_the_case_history_and_the_audit_log_speak_chinese_and_log_each_view_of_an_id_number(
        window, seeded_app, make_user):
    case = a_full_story(window)
    make_user("boss", "admin")
    User.update(display_name="王主任").where(User.username == "boss").execute()
    with serving(seeded_app) as url:
        clerk, admin = WebClient(url), WebClient(url)
        clerk.login("li")
        admin.login("boss")
        for _ in range(2):  # each view is one line of the 操作日志
            status, _, shown = clerk.post(f"/cases/{case.case_no}/reveal-id", {}, token_from=f"/cases/{case.case_no}")
            assert status == 200 and MOTHER_ID in shown
        task = outcomes.rectifications(actor=window.clerk)[0]["id"]
        status, _, _ = admin.post(f"/cases/rectifications/{task}/close", {"resolution": "已回访，调整取号安排"},
                                  token_from="/cases/rectifications")
        assert status == 200
        status, _, html = clerk.get(f"/cases/{case.case_no}")
        history = history_text(html)
        assert not CODE_WORD.search(history), CODE_WORD.findall(history)
        for said in ("登记", "出具一次性补正告知书", "待补：结婚证", "受理", "暂停计时", "社会保障卡申领：检验",
                     "恢复计时", "录入办理结果", "准予 R-1", "办结", "邮寄送达，快递单号 SF1234567890", "不满意",
                     "差评整改", "查看完整证件号码", "上传扫描件", "原件已核验"):
            assert said in history, said
        status, _, log = admin.get("/admin/audit")
        assert status == 200
        table = text_of(log.split("<tbody>", 1)[1].split("</tbody>", 1)[0])
        assert table.count("查看完整证件号码") == 2 and f"办件 {case.case_no}" in table
        assert "办结差评整改" in table and "整改情况：已回访，调整取号安排" in table
        assert "登录" in table and "新建用户" in table and "角色：系统管理员" in table
        assert "王主任（boss）" in table and "李芳（li）" in table
        assert not raw_codes(table), raw_codes(table)
        filters = log.split('<select id="action"', 1)[1].split("</select>", 1)[0]
        assert 'value="case.view_id"' in filters and ">查看完整证件号码<" in filters


def test_every_kind_and_detail_the_program_records_has_its_words(window):
    """The words are one table (record_words); nothing the program writes is missing from it."""
    from county_app import record_words
    from county_app.models import AuditLog
    from county_app.intake.records import CaseEvent

    a_full_story(window)
    written = Path(record_words.__file__).parent
    source = "\n".join(path.read_text(encoding="utf-8") for path in written.rglob("*.py"))
    audited = set(re.findall(r'audit\.record\([^,]+, "([a-z_.]+)"', source))
    audited |= set(re.findall(r'"(catalogue\.import[a-z_]*)"', source))
    audited |= set(re.findall(r'"(backup\.[a-z_]+)"', source)) - {"backup.folder", "backup.cron"}  # through helpers
    assert audited and audited <= set(record_words.AUDIT_ACTIONS), audited - set(record_words.AUDIT_ACTIONS)
    noted = set(re.findall(r'(?:transition|note)\(case, "([a-z_]+)"', source)) | {"register", "view_id", "print"}
    assert noted <= set(record_words.EVENT_ACTIONS), noted - set(record_words.EVENT_ACTIONS)
    keys = set()
    for detail in [e.detail for e in CaseEvent.select()] + [a.detail for a in AuditLog.select()]:
        keys |= set(json.loads(detail)) if detail else set()
    assert keys <= set(record_words.DETAIL_KEYS), keys - set(record_words.DETAIL_KEYS)
    assert {e.entity for e in AuditLog.select()} <= set(record_words.ENTITIES)


def test_a_stored_scan_opens_from_the_case_page_for_those_who_may_see_the_case(window, seeded_app, make_user):
    case = register(window)
    hand_in_all_but_marriage_certificate(case.case_no, window.clerk)  # 联办申请表.pdf, 3 pages
    other = cases.register_case(**restaurant(), actor=window.clerk)
    make_user("gaj", "department", department="县公安局")  # 出生登记 is theirs
    make_user("scj", "department", department="县市场监督管理局")  # nothing of story 1 is theirs
    with serving(seeded_app) as url:
        clerk = WebClient(url)
        clerk.login("li")
        _, _, html = clerk.get(f"/cases/{case.case_no}")
        link = re.search(r'<a class="scan-link" href="([^"]+)"[^>]*>\s*联办申请表\.pdf（3 页）</a>', html)
        assert link, "the case page links its scan"
        assert "1 个文件，3 页" in html
        with db.atomic():  # a paper undone and scanned again kept its scan but not its page count
            CaseMaterial.update(pages=None).where(CaseMaterial.case == case.id, CaseMaterial.code == "SQB").execute()
        _, _, html = clerk.get(f"/cases/{case.case_no}")
        assert "None 页" not in html and "1 个文件，3 页" in html
        status, headers, body = clerk.request("GET", link.group(1))
        assert status == 200 and headers["Content-Type"] == "application/pdf" and body.startswith("%PDF-")
        assert headers["X-Content-Type-Options"] == "nosniff" and "no-store" in headers["Cache-Control"]
        police = WebClient(url)
        police.login("gaj")
        assert police.get(link.group(1))[0] == 200
        market = WebClient(url)
        market.login("scj")
        status, _, refused = market.get(link.group(1))
        assert status == 404 and "联办" not in refused
        sha = link.group(1).rsplit("/", 1)[1]
        # Only through a case that holds it; an unknown file is 404 too.
        assert clerk.get(f"/cases/{other.case_no}/scans/{sha}")[0] == 404
        assert clerk.get(f"/cases/{case.case_no}/scans/{'0' * 64}")[0] == 404
        assert clerk.get(f"/cases/{case.case_no}/scans/..%2F..%2Fcounty_app.sqlite3")[0] == 404


def test_a_single_matter_s_situation_paper_is_on_the_case_page_with_its_situation(window, seeded_app):
    request = newborn(bundle=None, answers=None, matters=["GA-0101"])
    request["form"] = {k: v for k, v in request["form"].items() if k not in ("XSECSDD", "CKRXM", "LKFS")}
    case = cases.register_case(**request, actor=window.clerk)
    with serving(seeded_app) as url:
        clerk = WebClient(url)
        clerk.login("li")
        _, _, html = clerk.get(f"/cases/{case.case_no}")
    row = text_of(html.split('id="m-JHZ"', 1)[1].split("</tr>", 1)[0])
    assert "结婚证 （「新生儿父母的婚姻状况」答“已婚”时提交）" in row and "非必要" in row
    assert 'id="m-FHSYSM"' in html


def test_a_setting_a_backup_and_a_printed_commitment_letter_read_in_words(app):
    """The 操作日志 showed "设置 scan.folder" and backup.create with its detail keys; a print read "commitment"."""
    from county_app import audit
    from county_app.models import AuditLog
    from county_app.views.cases import describe

    with db.connection_context():
        with db.atomic():
            audit.record("admin", "config.set", "setting", "centre.hours", value="工作日 9:00-17:00")
            audit.record("admin", "backup.create", "backup", "county-app-20261201-021500.zip",
                         folder="/data/backups", size=613510, schema="0011_case_search", verified=True)
        setting, backup = (audit.readable(AuditLog.get(AuditLog.action == action))
                           for action in ("config.set", "backup.create"))
    assert (setting["action"], setting["entity"], setting["entity_id"]) == ("修改设置", "设置", "办公时间")
    assert backup["action"] == "备份" and backup["entity"] == "备份"
    assert "大小（字节）：613510" in backup["detail"] and "size" not in backup["detail"]
    assert describe({"action": "print", "detail": {"kind": "commitment", "number": "X-CSSYZM"}}, {}, {}) \
        == "告知承诺书 X-CSSYZM"


def test_a_catalogue_import_and_a_restore_each_name_what_they_replaced_in_their_own_words():
    """Both once wrote ``replaced``: the restore's words took over, and an import read "被替换的数据库文件"."""
    from county_app.record_words import detail_text

    assert detail_text({"version": "2026.12-01", "replaced": "2026.11-06"}) == "目录版本：2026.12-01；原目录版本：2026.11-06"
    restored = detail_text({"replaced_file": "/data/county_app.sqlite3.replaced-1", "replaced_backup": ""})
    assert restored.startswith("被替换的数据库文件：/data/county_app.sqlite3.replaced-1")
