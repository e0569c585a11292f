"""A clerk finds 新生儿出生一件事 in a real browser, keyboard only (window story 1).

Drives Debian's chromium through Playwright against the app served by waitress
(``live_server``, seed catalogue loaded). Screenshots at 1366×768 go to /tmp.
"""
from conftest import PASSWORD, browser_login

SCREENSHOT = "/tmp/browse.png"


def focused(page, script):
    """Evaluate ``script`` on the focused element."""
    return page.evaluate(f"(el => {script})(document.activeElement)")


def no_horizontal_overflow(page):
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_keyboard_only_search_to_merged_materials(live_server, make_user, browser_page):
    make_user("li", "clerk")
    page = browser_page

    # Log in with the keyboard: the user name field has the focus.
    page.goto(live_server + "/")
    assert "/login" in page.url
    assert focused(page, "el.id") == "username"
    page.keyboard.type("li")
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(live_server + "/")
    page.wait_for_load_state("networkidle")
    assert no_horizontal_overflow(page)
    page.screenshot(path="/tmp/browse-home.png")

    # "/" goes to the search box; type the pinyin initials and search.
    page.keyboard.press("Tab")  # move away first: "/" must bring the focus back from anywhere
    page.keyboard.press("/")
    assert focused(page, "el.id") == "search-q"
    page.keyboard.type("xse")
    assert page.input_value("#search-q") == "xse"
    page.keyboard.press("Enter")
    page.wait_for_url("**/search?q=xse")

    # The first result is current; arrows move through the list; Enter opens it.
    assert "新生儿出生" in focused(page, "el.textContent")
    page.screenshot(path="/tmp/browse-search.png")
    results = page.locator("[data-keynav] a").count()
    if results > 1:
        page.keyboard.press("ArrowDown")
        page.keyboard.press("ArrowUp")
    assert "新生儿出生" in focused(page, "el.textContent")
    page.keyboard.press("Enter")
    page.wait_for_url("**/bundles/**")

    # The bundle page: its merged material list, one row per material.
    assert "新生儿出生" in page.locator("h1").first.inner_text()
    heading = page.locator("h2#materials")
    assert heading.is_visible() and "合并后的申请材料" in heading.inner_text()
    code = page.url.rsplit("/", 1)[1]
    merged = page.request.get(f"{live_server}/api/v1/bundles/{code}").json()["materials"]
    rows = page.locator("h2#materials + table tbody tr")
    assert rows.count() == len(merged) > 0
    assert rows.first.locator("td").nth(1).inner_text().startswith(merged[0]["name"])
    assert no_horizontal_overflow(page)
    page.screenshot(path=SCREENSHOT)
    page.screenshot(path="/tmp/browse-bundle-full.png", full_page=True)

    # "/" from a page whose search box is not focused brings the focus back to it.
    page.keyboard.press("/")
    assert focused(page, "el.id") == "search-q"

    # Several results: the arrow keys move through them, and up from the first goes back to the box.
    page.keyboard.type("cs")
    page.keyboard.press("Enter")
    page.wait_for_url("**/search?q=cs")
    links = page.locator("[data-keynav] a")
    assert links.count() > 1
    assert focused(page, "el.getAttribute('href')") == links.nth(0).get_attribute("href")
    page.keyboard.press("ArrowDown")
    assert focused(page, "el.getAttribute('href')") == links.nth(1).get_attribute("href")
    page.keyboard.press("ArrowUp")
    page.keyboard.press("ArrowUp")
    assert focused(page, "el.id") == "search-q"


def test_down_arrow_searches_the_typed_text_before_choosing(live_server, make_user, browser_page):
    """餐饮 typed on the home page, then ↓ and Enter, opens 开办餐饮店一件事 — not the catalogue's first card."""
    make_user("li", "clerk")
    page = browser_page
    browser_login(page, live_server, "li")
    assert focused(page, "el.id") == "search-q"
    first_card = page.locator("[data-keynav] a").first.inner_text()
    assert "餐饮" not in first_card
    page.keyboard.type("餐饮")
    page.keyboard.press("ArrowDown")
    page.wait_for_url("**/search?q=*")
    page.wait_for_load_state("networkidle")
    assert "餐饮" in focused(page, "el.textContent")
    page.screenshot(path="/tmp/browse-down-searches.png")
    # On the results the box holds the searched text: ↓ from it enters the results, ↑ goes back.
    page.keyboard.press("/")
    assert focused(page, "el.id") == "search-q"
    page.keyboard.press("ArrowDown")
    assert "餐饮" in focused(page, "el.textContent")
    page.keyboard.press("Enter")
    page.wait_for_url("**/bundles/**")
    assert "开办餐饮店" in page.locator("h1").first.inner_text()
    # An empty box: ↓ enters the catalogue's list as before.
    page.goto(live_server + "/")
    page.wait_for_function("document.activeElement && document.activeElement.id === 'search-q'")
    page.keyboard.press("ArrowDown")
    assert focused(page, "el.textContent") == page.locator("[data-keynav] a").first.text_content()
