"""多选 fields by keyboard (browser walk-through after issue 9), in chromium against waitress:
digit N ticks or unticks option N of the focused 多选 field and stays, Enter goes to the next field
(not box by box), and the field's hint says so. The restaurant's 食品经营项目 has seven options.
"""
from test_browse_browser import focused
from test_intake_browser import focus_on, log_in, wait_settled, window  # noqa: F401 (fixture)


def ticked(page, name):
    return page.evaluate(f"Array.from(document.querySelectorAll('input[name=\"{name}\"]:checked')).map(b => b.value)")


def test_digits_tick_the_options_of_a_multi_field_and_enter_goes_on(window, browser_page):
    base, page = window, browser_page
    page.goto(base + "/intake/new?bundle=YJS-KBCY")
    log_in(page, base)
    page.wait_for_url("**/intake/new?bundle=YJS-KBCY")
    focus_on(page, "el.name", "q.Q1")
    for _ in range(4):
        page.keyboard.press("1")
        page.keyboard.press("Enter")
        wait_settled(page)
    field = page.locator("#f-JYXM")
    hint = page.locator("#f-JYXM-keys").inner_text()
    assert "数字键 1–7 勾选或取消" in hint and "Enter 到下一项" in hint

    # From the field before it, Enter lands on the group; then digits typed at once tick options.
    page.evaluate("""() => {
        const all = Array.from(document.querySelectorAll('#fields-part input:not([type=hidden])'));
        all[all.indexOf(document.getElementById('f-JYXM-1')) - 1].focus();
    }""")
    page.keyboard.press("Enter")
    focus_on(page, "el.name", "f.JYXM")
    for key in ("1", "6", "3", "6", "9"):  # 6 twice: ticked, then unticked; no ninth option: nothing
        page.keyboard.press(key)
    assert ticked(page, "f.JYXM") == ["热食类食品制售", "生食类食品制售"]
    assert focused(page, "el.name + '=' + el.value") == "f.JYXM=预包装食品销售"  # the last digit's option
    field.scroll_into_view_if_needed()
    page.screenshot(path="/tmp/wnd/intake-multi.png")
    page.keyboard.press("Enter")  # one stop per group: on to the next field, not the next box
    next_field = page.evaluate("""() => {
        const all = Array.from(document.querySelectorAll('#intake input:not([type=hidden]), #intake select'))
            .filter(el => !el.disabled && el.offsetParent !== null);
        return all.find(el => el.compareDocumentPosition(document.getElementById('f-JYXM'))
                              & Node.DOCUMENT_POSITION_PRECEDING && !el.closest('#f-JYXM')).id;
    }""")
    focus_on(page, "el.id", next_field)
    assert ticked(page, "f.JYXM") == ["热食类食品制售", "生食类食品制售"]
    # Shift+Tab goes back to it (the boxes are still reachable one by one with Tab and Space)
    page.keyboard.press("Shift+Tab")
    assert focused(page, "el.name") == "f.JYXM"
