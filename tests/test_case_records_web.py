"""What the case page and the boards say about a case, through the real server (issue 9 items 13 and 14).

13: a due-soon mark belongs to the item it describes — a case due in a week is not 即将到期 because
one of its 即办 items is due today.
"""
import re

from county_app.intake import materials, workflow

from conftest import serving
from test_notices import hand_in_all_but_marriage_certificate, register, window  # noqa: F401
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
