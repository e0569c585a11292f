"""Starting the program as the window PC does (issue 11, item 2), with real processes of the Python entry point.

No arguments (a double-click): the data folder is set up, the program serves on
127.0.0.1:8080, opens the browser there (the ``BROWSER`` variable names a
small program that writes down what it was asked to open) and says in
Chinese where it is, where the data are and how to stop it; Ctrl+C stops it.
Nothing is written in the folder it was started from. A port in use and a
second copy on the same data folder end with a message, not a traceback;
the second copy sends the browser to the copy that runs.
"""
import os
import socket

import pytest

from program import PYTHON_PROGRAM, Running, environment, fake_browser, free_port, opened, run
from test_backups import live_state, read_only

DEFAULT_URL = "http://127.0.0.1:8080/"


@pytest.fixture
def browser_log(tmp_path):
    return fake_browser(tmp_path)


def test_double_click_sets_up_serves_opens_the_browser_and_stops_on_ctrl_c(tmp_path, port_8080, browser_log):
    data_dir, beside = tmp_path / "data", tmp_path / "beside-the-program"
    beside.mkdir()
    browser_env, log = browser_log
    program = Running(PYTHON_PROGRAM, env=environment(data_dir, **browser_env), cwd=beside, log=tmp_path / "console")
    try:
        program.wait_ready(DEFAULT_URL + "login")
        assert opened(log) == [DEFAULT_URL]
        output = program.output
        assert f"网址：{DEFAULT_URL}（已在浏览器中打开）" in output
        assert f"数据文件夹：{data_dir}" in output
        assert "按 Ctrl+C，或直接关闭本窗口" in output
        assert "已创建管理员账号 admin，一次性初始密码" in output  # the first run: shown once, in the console
        assert (data_dir / "county_app.sqlite3").is_file()
        assert (data_dir / "county_app.address").read_text() == DEFAULT_URL
    finally:
        code = program.stop()
    assert code == 0, program.output
    assert "服务已停止" in program.output and "Traceback" not in program.output
    assert not (data_dir / "county_app.address").exists()  # nobody listens there any more
    assert list(beside.iterdir()) == []  # nothing written beside the program (a double-click's working folder)


def test_no_browser_when_the_environment_says_so(tmp_path, browser_log):
    browser_env, log = browser_log
    browser_env["COUNTY_APP_NO_BROWSER"] = "1"
    port = free_port()
    program = Running([*PYTHON_PROGRAM, "serve", "--browser", "--port", str(port)],
                      env=environment(tmp_path / "data", **browser_env), cwd=tmp_path, log=tmp_path / "console")
    try:
        program.wait_ready(f"http://127.0.0.1:{port}/login")
    finally:
        assert program.stop() == 0
    assert not log.exists()
    assert f"网址：http://127.0.0.1:{port}/\n" in program.output  # not "opened in the browser"


def test_a_second_copy_on_the_same_data_folder_opens_the_browser_on_the_first(tmp_path, browser_log):
    data_dir = tmp_path / "data"
    port = free_port()
    first = Running([*PYTHON_PROGRAM, "serve", "--port", str(port)], env=environment(data_dir), cwd=tmp_path,
                    log=tmp_path / "first")
    try:
        first.wait_ready(f"http://127.0.0.1:{port}/login")
        browser_env, log = browser_log
        code, out, err = run(PYTHON_PROGRAM, env=environment(data_dir, **browser_env), cwd=tmp_path)  # double-click
        assert code == 1
        assert f"本程序已经在运行，使用同一个数据文件夹 {data_dir}，网址 http://127.0.0.1:{port}/（已在浏览器中打开）" in err
        assert "Traceback" not in out + err and "8080" not in out + err
        assert opened(log) == [f"http://127.0.0.1:{port}/"]
        code, out, err = run(PYTHON_PROGRAM, "serve", "--port", str(free_port()), env=environment(data_dir))
        assert code == 1 and "本程序已经在运行" in err and "（已在浏览器中打开）" not in err
    finally:
        assert first.stop() == 0
    assert "Traceback" not in first.output


def test_a_port_in_use_ends_with_a_message_and_leaves_the_data_folder_alone(tmp_path):
    data_dir = tmp_path / "data"
    with socket.socket() as other_program:
        other_program.bind(("127.0.0.1", 0))
        other_program.listen()
        port = other_program.getsockname()[1]
        code, out, err = run(PYTHON_PROGRAM, "serve", "--port", str(port), env=environment(data_dir))
    assert code == 1
    assert f"端口 {port} 已被其他程序占用" in err and "--port" in err
    assert "Traceback" not in out + err
    assert not (data_dir / "county_app.sqlite3").exists()
    assert not (data_dir / "county_app.address").exists()


def test_a_crashed_copys_address_is_not_trusted(tmp_path):
    """An address left by a copy that was killed is removed by the next one before it serves."""
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    (data_dir / "county_app.address").write_text("http://127.0.0.1:1/")
    port = free_port()
    program = Running([*PYTHON_PROGRAM, "serve", "--port", str(port)], env=environment(data_dir), cwd=tmp_path,
                      log=tmp_path / "console")
    try:
        program.wait_ready(f"http://127.0.0.1:{port}/login")
        assert (data_dir / "county_app.address").read_text() == f"http://127.0.0.1:{port}/"
    finally:
        assert program.stop() == 0



@pytest.mark.skipif(os.name == "nt", reason="POSIX permissions")
def test_a_data_folder_that_cannot_be_written_ends_with_a_message_and_is_left_alone(tmp_path):
    data_dir = tmp_path / "data"
    assert run(PYTHON_PROGRAM, "init", env=environment(data_dir))[0] == 0
    before = live_state(data_dir)
    with read_only(data_dir):
        for args in ((), ("serve", "--port", str(free_port()))):  # a double-click, and serve
            code, out, err = run(PYTHON_PROGRAM, *args, env=environment(data_dir), timeout=60)
            assert code == 1 and "请检查数据文件夹是否可写" in err and str(data_dir) in err, out + err
            assert "Traceback" not in out + err
    assert live_state(data_dir) == before
