"""What a failed run means and what to do about it, in plain Chinese: the one table of run errors.

A failed run is recorded with its ``kind`` (``SyncRun.error_kind``) next to
the detailed message; the sync page, the 运行状况 page and the scheduler read
the kind from here, so the words for a kind of trouble live in one place.
Sync not set up (``not_configured``) is advised from the settings missing now.
"""
from dataclasses import dataclass


@dataclass(frozen=True)
class Advice:
    problem: str  # what went wrong, in a few words
    action: str  # what the administrator does about it
    retry: bool = False  # whether the scheduler tries again soon by itself (a link that may come back)
    in_settings: bool = False  # whether the remedy is typed in 系统设置 (the page links there)


KINDS = {
    "unreachable": Advice("连不上县级汇聚中心",
                          "检查本机网络（能否打开其他网站或县里的内网）和系统设置中的汇聚中心地址；"
                          "网络恢复后点“立即同步”，或等待自动重试。未上传的办件都还在本机，不会丢失。", retry=True,
                          in_settings=True),
    "clock": Advice("本机时钟不准",
                    "汇聚中心拒绝了时间相差超过 5 分钟的请求：请把本机的日期、时间和时区（北京时间）校准后再同步。"),
    "secret": Advice("同步密钥不对",
                     "本机的同步密钥与汇聚中心登记的不一致：请县级管理员执行 node secret 本中心编码 "
                     "生成新密钥，再在系统设置中填入同步密钥。", in_settings=True),
    "unknown_node": Advice("本中心未在汇聚中心登记",
                           "请县级管理员在汇聚中心执行 node add 本中心区划代码 --name 名称，并把它打印的密钥填入系统设置中的同步密钥。",
                           in_settings=True),
    "revoked": Advice("本中心已被汇聚中心停用",
                      "请联系县级管理员：恢复时由其执行 node secret 本中心编码 生成新密钥，再在系统设置中填入同步密钥。",
                      in_settings=True),
    "replayed": Advice("请求被当作重复请求拒绝", "一般是网络重发所致：请再点一次“立即同步”。如果反复出现，请联系县级管理员。",
                       retry=True),
    "is_hub": Advice("本机是县级汇聚中心", "同步由各乡镇发起，汇聚中心不需要运行同步。"),
    "not_hub": Advice("汇聚中心地址指向的不是县级汇聚中心",
                      "系统设置中的汇聚中心地址指向了另一台乡镇电脑：请向县级管理员核对正确的地址。",
                      in_settings=True),
    "refused": Advice("汇聚中心拒收了本机的数据",
                      "未做任何更改，本机数据都还在。请把下面的错误说明告诉县级管理员，由其查看汇聚中心的同步页。"),
    "hub_restored": Advice("汇聚中心的数据比本机旧",
                           "汇聚中心可能从旧备份恢复过。请暂停同步并联系县级管理员，不要删除本机数据。"),
    "local_restored": Advice("本机数据比汇聚中心旧",
                             "本机可能从旧备份恢复过。请暂停同步并联系县级管理员，不要自行重新初始化。"),
    "bad_answer": Advice("汇聚中心的应答无法识别",
                         "核对系统设置中的汇聚中心地址是否正确；地址正确仍出现时，请把错误说明告诉县级管理员。",
                         in_settings=True),
    "catalogue": Advice("新的事项目录无法导入", "本机仍使用原目录办件。请把错误说明告诉县级管理员，由其检查汇聚中心导入的目录。"),
    "scan_damaged": Advice("本机有扫描件丢失或损坏，未能上传",
                           "其余数据已同步。请在错误说明列出的办件中重新扫描该材料；下次同步时会上传新的扫描件。"),
    "rerun": Advice("一次同步的数据太多，没有传完", "请再点一次“立即同步”；已传完的部分不会重复。", retry=True),
    "interrupted": Advice("同步中途停止（程序被关闭或电脑断电）",
                          "已确认的部分不会丢失也不会重复：请再点一次“立即同步”。"),
    "other": Advice("同步没有完成", "请再点一次“立即同步”；仍不成功时，请把错误说明告诉县级管理员。"),
}

# The hub's refusal codes (sync/signing.py, batches.py, hub.py) → the kind of trouble at the township.
_REFUSALS = {
    "stale": "clock",
    "bad_signature": "secret", "unsigned": "secret", "bad_key": "refused",
    "unknown_node": "unknown_node",
    "revoked_node": "revoked",
    "replayed": "replayed",
    "not_hub": "not_hub",
    "ahead": "hub_restored",
}


def refusal_kind(code):
    """The kind of a run refused by the hub with ``code`` (a refused batch is ``refused``)."""
    return _REFUSALS.get(code, "refused")


def advice(kind, missing=()):
    """The Advice for ``kind``; the general one for a kind this version does not know.

    ``missing``: for ``not_configured``, the labels of the settings missing now
    (``transport.missing_settings``), so that the advice names only those.
    """
    if kind == "not_configured":
        if not missing:
            return Advice("尚未设置同步", "所需的设置现已填写：请再点“立即同步”。")
        given = [label for label in missing if label in _GIVEN]
        return Advice("尚未设置同步", f"在系统设置中填写{'、'.join(missing)}"
                      + (f"（{'和'.join(given)}由县级管理员提供）" if given else "") + "，再点“立即同步”。", in_settings=True)
    return KINDS.get(kind) or KINDS["other"]


_GIVEN = {"汇聚中心地址", "同步密钥"}  # what the county's administrator hands out (node add prints the secret)
