"""A notice counts as printed only when it is printed (issue 9 item 3): the print events, in chromium.

What is real here and what is not: headless chromium has no print dialog.
``page.pdf()`` is chromium's own print — it raises ``beforeprint``, lays the
page out for paper and raises ``afterprint`` — so a PDF stands for a sheet that
came out. A dialog the clerk cancels is played by dispatching the same two
events, which is what chromium raises for a cancelled dialog too: the page
cannot tell the two apart, so after either it asks 「打印出来了吗？」 and counts
the print only on 已打印 (Enter); 没有打出 (Esc) or no answer counts nothing.
Opening the page (its dialog opened on load, nothing decided yet) and
switching to 大字 raise nothing and count nothing.
"""
import json
import re
import unicodedata

from pypdf import PdfReader

from county_app import settings
from county_app.db import db
from county_app.intake import cases
from county_app.intake.records import CaseEvent
from county_app.models import User

from conftest import browser_login
from test_cases_domain import CENTRE, newborn
from test_notices import page, record_print, register, window  # noqa: F401  (window is a fixture)

CANCELLED_DIALOG = """() => { window.dispatchEvent(new Event("beforeprint"));
                              window.dispatchEvent(new Event("afterprint")); }"""


def focused_id(page):
    return page.evaluate("document.activeElement.id")


def print_log():
    """The print events of every case, in order: (action, number)."""
    return [(e.action, json.loads(e.detail)["number"]) for e in
            CaseEvent.select().where(CaseEvent.action.in_(["print", "print_withdrawn"])).order_by(CaseEvent.id)]


def pdf_text(path):
    return unicodedata.normalize("NFKC", "".join(p.extract_text() for p in PdfReader(path).pages))


def test_opening_large_type_and_a_cancelled_dialog_count_nothing_and_only_prints_are_marked(
        live_server, make_user, browser_page, tmp_path):
    make_user("li", "clerk")
    with db.connection_context():
        with db.atomic():
            settings.put("centre.code", CENTRE)
        case = cases.register_case(**newborn(), actor=User.get(User.username == "li"))
    number = f"{case.case_no}-01"
    page = browser_page
    page.add_init_script("window.__dialogs = 0; window.print = function () { window.__dialogs += 1; };")
    browser_login(page, live_server, "li")

    def logged():
        with db.connection_context():
            return print_log()

    # Opened from the case page: the dialog opens on load; until it closes nothing is decided or counted.
    page.goto(live_server + f"/cases/{case.case_no}/notices/receipt")
    page.wait_for_load_state("networkidle")
    assert page.evaluate("window.__dialogs") == 1 and logged() == []
    page.click("#large-button")  # 大字: the page changes, nothing is printed
    page.reload()
    page.wait_for_load_state("networkidle")
    assert page.evaluate("window.__dialogs") == 0 and "noprint=1" in page.url and "large=1" in page.url
    assert logged() == [] and page.locator("[data-reprint]").is_hidden()

    # The dialog cancelled: chromium raises beforeprint and afterprint as for a print; the page asks, the clerk
    # answers 没有打出 with Esc, and nothing is counted.
    page.click("#print-button")
    page.evaluate(CANCELLED_DIALOG)
    page.wait_for_selector("#print-question", state="visible")
    assert focused_id(page) == "printed-yes"
    page.screenshot(path="/tmp/notice-print-question.png")
    page.keyboard.press("Escape")
    assert page.locator("#print-question").is_hidden()
    assert "不计打印" in page.locator("#print-status").inner_text()
    assert logged() == [] and page.locator("[data-reprint]").is_hidden()
    # Closed again and left without an answer (the page reloaded): nothing is counted either.
    page.evaluate(CANCELLED_DIALOG)
    page.wait_for_selector("#print-question", state="visible")
    page.reload()
    page.wait_for_load_state("networkidle")
    assert logged() == [] and page.locator("[data-reprint]").is_hidden()

    # A real print (chromium's own), answered 已打印 with Enter: the first paper carries no 补打, the second does.
    first, second = tmp_path / "first.pdf", tmp_path / "second.pdf"
    page.pdf(path=str(first), format="A4")
    page.wait_for_selector("#print-question", state="visible")
    assert "打印出来了吗" not in pdf_text(first)  # the question is on the screen, not on the paper
    page.keyboard.press("Enter")
    page.wait_for_function("document.getElementById('print-status').textContent === '已记录打印'")
    assert not re.search(r"补\s*打", pdf_text(first))
    assert logged() == [("print", number)]
    page.pdf(path=str(second), format="A4")
    page.click("#printed-yes")
    page.wait_for_function("document.getElementById('print-status').textContent.indexOf('补打') >= 0")
    assert re.search(r"补\s*打\s*第\s*2\s*次打印", pdf_text(second))
    assert logged() == [("print", number), ("print", number)]
    page.screenshot(path="/tmp/notice-reprinted-receipt.png")

    # 已打印 answered by mistake (the printer jammed): taken back, and the next paper is the second print again.
    page.click("#withdraw-button")
    page.wait_for_selector("#withdraw-button", state="hidden")
    assert [action for action, _ in logged()] == ["print", "print", "print_withdrawn"]
    assert "不计打印" in page.locator("#print-status").inner_text()

    # The case page's history says what happened, in words.
    page.goto(live_server + f"/cases/{case.case_no}")
    history = page.locator("body").inner_text()
    assert "撤销打印记录（未打出）" in history
    page.goto(live_server + f"/cases/{case.case_no}/notices/receipt?noprint=1")
    assert "第2次打印" in page.locator("[data-reprint]").inner_text()


def test_a_print_is_taken_back_only_by_its_clerk_and_only_the_latest(window, make_user):
    case = register(window)
    path = f"/cases/{case.case_no}/notices/receipt"
    token = re.search(r'data-csrf="([^"]+)"', page(window, path + "?noprint=1")).group(1)

    def withdraw(body, client=None, status=200):
        response = (client or window.client).post(path + "/prints/withdraw", json=body,
                                                  headers={"X-CSRFToken": token})
        assert response.status_code == status, response.get_data(as_text=True)
        return response.get_json()

    assert window.client.get(path + "/prints").get_json()["print_count"] == 0
    assert withdraw({"print_count": 1}, status=409)["error"]["code"] == "stale"  # nothing printed yet
    record_print(window, path)
    record_print(window, path)
    assert withdraw({"print_count": 1}, status=409)  # not the latest print
    assert withdraw({"print_count": "二"}, status=422)["error"]["details"][0]["field"] == "print_count"
    assert withdraw({}, status=422) and withdraw([], status=422)
    assert [action for action, _ in print_log()] == ["print", "print"]  # the refusals changed nothing
    assert withdraw({"print_count": 2}) == {"kind": "receipt", "number": f"{case.case_no}-01", "print_count": 1,
                                            "reprint": True}
    assert window.client.get(path + "/prints").get_json()["print_count"] == 1
    assert withdraw({"print_count": 2}, status=409)  # already taken back
    assert window.client.post(path + "/prints/withdraw", json={"print_count": 1}).status_code == 400  # no CSRF
    # Another clerk cannot take back li's print.
    from conftest import login

    make_user("wang", "clerk")
    other = window.client.application.test_client()
    login(other, "wang")
    other_token = re.search(r'data-csrf="([^"]+)"', other.get(path + "?noprint=1").get_data(as_text=True)).group(1)
    response = other.post(path + "/prints/withdraw", json={"print_count": 1}, headers={"X-CSRFToken": other_token})
    assert response.status_code == 409 and "不能撤销" in response.get_json()["error"]["message"]
    assert [action for action, _ in print_log()] == ["print", "print", "print_withdrawn"]
