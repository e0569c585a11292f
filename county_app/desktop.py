"""What a start by double-click adds to ``serve`` on the window PC: the browser, and a console a user can read.

``county-app`` without a command serves and opens the default browser on
the program's address (the login page, which leads a first administrator
to set a password and the centre's settings); a second copy started on the
same data folder opens the browser on the copy that runs instead. The
environment variable ``COUNTY_APP_NO_BROWSER`` (any value but empty or
``0``) keeps the browser closed: for tests, servers and scripts.

On Windows a double-clicked console program's window closes the moment it
ends, taking its message with it; after a refusal (port in use, data folder
busy) the window waits for Enter so the user can read why.
"""
import os
import sys
import threading
import webbrowser

ENV_NO_BROWSER = "COUNTY_APP_NO_BROWSER"
ANY_ADDRESS = {"", "0.0.0.0", "::"}


def browser_allowed():
    """Whether the environment lets the program open a browser."""
    return os.environ.get(ENV_NO_BROWSER, "").strip() in ("", "0")


def local_url(host, port):
    """The address a browser on this PC uses for a server listening on ``host:port``."""
    if host in ANY_ADDRESS:
        host = "127.0.0.1"
    elif ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}/"


def open_browser(url, wait=0):
    """Open ``url`` in the default browser; wait at most ``wait`` seconds for it to be started.

    In a thread: some browsers hold the program that started them until they close.
    """
    opening = threading.Thread(target=webbrowser.open, args=(url,), name="open browser", daemon=True)
    opening.start()
    opening.join(wait)


def started_text(url, data_dir, *, opened):
    """What the console says once the program serves, in Chinese."""
    where = "（已在浏览器中打开）" if opened else ""
    return "\n".join([
        "一件事一次办 窗口系统已启动",
        f"  网址：{url}{where}",
        f"  数据文件夹：{data_dir}",
        "  停止：在本窗口按 Ctrl+C，或直接关闭本窗口",
    ])


def double_clicked(argv):
    """Whether this looks like a Windows double-click: no arguments and a console of its own to keep open."""
    return os.name == "nt" and not argv and sys.stdin is not None and sys.stdin.isatty()


def wait_before_closing():
    try:
        input("按回车键关闭此窗口……")
    except (EOFError, KeyboardInterrupt):
        pass
