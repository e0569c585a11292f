"""The Chinese words of the records people read: a case's 办理记录 and the 操作日志.

Events and audit entries are stored with codes (``accept``, ``user.role``)
and a detail of codes (``{"role": "clerk"}``) so that programs can read them;
people read them through the tables here — every kind of event and audit
entry, every kind of record an entry is about, every key of a detail and how
its values read — so that no page shows a code or JSON. A code missing here
is shown as itself: a test walks every kind the program writes.
"""
from .access import ROLES
from .intake.statuses import CASE_STATUSES, MATERIAL_STATUSES, NOTICE_KINDS, RATINGS, dated

EVENT_ACTIONS = {
    "register": "登记",
    "material": "登记材料",
    "scan": "上传扫描件",
    "correction": "出具一次性补正告知书",
    "accept": "受理",
    "reject": "不予受理",
    "suspend": "暂停计时",
    "resume": "恢复计时",
    "result": "录入办理结果",
    "conclude": "办结",
    "deliver": "送达",
    "evaluate": "评价",
    "rectify": "差评整改",
    "print": "打印通知书",
    "print_withdrawn": "撤销打印记录（未打出）",
    "view_id": "查看完整证件号码",
    "resolve": "处理同步冲突",
}

AUDIT_ACTIONS = {
    "config.set": "修改设置",
    "user.add": "新建用户",
    "user.password": "修改密码",
    "user.reset": "重置密码",
    "user.unlock": "解除登录锁定",
    "user.deactivate": "停用用户",
    "user.reactivate": "重新启用用户",
    "user.role": "修改角色或部门",
    "user.edit": "修改用户信息",
    "login.ok": "登录",
    "login.throttled": "登录受限（同一地址失败过多）",
    "login.locked": "登录锁定（同一用户名失败过多）",
    "token.issue": "签发 API 令牌",
    "token.revoke": "吊销 API 令牌",
    "catalogue.import": "导入事项目录",
    "catalogue.import_older": "导入较旧的事项目录（已确认）",
    "rectification.close": "办结差评整改",
    "case.correction_override": "再次出具一次性补正告知书",
    "case.view_id": "查看完整证件号码",
    "case.print": "打印通知书（县级汇聚中心）",
    "case.print_withdrawn": "撤销打印记录（县级汇聚中心）",
    "backup.create": "备份",
    "backup.failed": "备份失败",
    "backup.upload": "上传备份文件",
    "backup.restore_staged": "选定要恢复的备份（下次启动时恢复）",
    "backup.restore_cancelled": "取消恢复",
    "backup.restore": "恢复备份",
    "backup.restore_failed": "恢复备份失败",
    "sync.node_add": "登记乡镇节点",
    "sync.node_secret": "重新生成乡镇节点的同步密钥",
    "sync.node_revoke": "停用乡镇节点",
    "sync.run": "立即同步",
}

ENTITIES = {
    "setting": "设置",
    "user": "用户",
    "address": "客户端地址",
    "api_token": "API 令牌",
    "catalogue_version": "目录版本",
    "rectification": "差评整改任务",
    "case": "办件",
    "backup": "备份",
    "sync_node": "乡镇节点",
    "sync": "与县级汇聚中心同步",
}

DETAIL_KEYS = {
    "value": "值", "role": "角色", "was": "原角色", "department": "部门", "was_department": "原部门",
    "display_name": "姓名", "phone": "手机号", "source": "客户端地址", "user": "用户",
    "minutes": "暂停登录（分钟）", "addresses": "解除受限的地址数", "failures": "失败次数", "version": "目录版本", "sha256": "文件校验码",
    "filename": "文件名", "published_on": "发布日期", "replaced": "原目录版本", "replaced_published_on": "原目录发布日期",
    "case": "办件", "resolution": "整改情况", "reason": "理由", "notice": "通知书编号", "override_reason": "再次出具理由",
    "code": "材料", "material": "材料", "materials": "待补材料", "status": "状态", "trust_level": "可信等级",
    "pages": "页数", "deadline": "补正期限", "accepted_on": "受理日期", "due_date": "办结日期", "deferred": "容缺后补",
    "until": "后补日期", "refer_to": "应向何机关申请", "matter": "事项", "matters": "事项", "outcome": "办理结果",
    "result_no": "证照或文书编号", "note": "说明", "working_days": "停止计时（工作日）", "method": "送达方式",
    "tracking_no": "快递单号", "rating": "评价", "rectification": "整改任务编号", "kind": "通知书", "number": "编号",
    "catalogue_version": "目录版本", "calendar_complete": "调休安排", "via": "途径", "bundle": "一件事",
    "folder": "文件夹", "size": "大小（字节）", "schema": "数据库版本", "scans": "扫描件数", "missing_scans": "缺失的扫描件数",
    "damaged_scans": "损坏的扫描件数", "verified": "已校验", "error": "错误", "created_at": "备份时间",
    "applied": "执行的升级", "scans_added": "恢复的扫描件数", "replaced_file": "被替换的数据库文件",
    "replaced_backup": "被替换数据库的备份", "scans_detached": "撤下的扫描件", "stands": "采用",
    "on_behalf": "窗口代录（依其书面决定的部门）", "name": "名称",
}

# Who did it, when it was not a user: the name recorded, as people read it.
ACTORS = {"anonymous": "未登录的访问者", "system": "系统", "cli": "命令行", "seed": "系统（内置示例目录）"}

_OUTCOMES = {"approved": "准予", "denied": "不予"}
_DELIVERY = {"window": "窗口领取", "mail": "邮寄送达"}
_VIA = {"web": "网页", "api": "接口"}
SIDES = {"hub": "县级汇聚中心（部门）的记录", "township": "乡镇窗口的记录"}  # whose value stands (sync/conflicts.py)

# The papers a print event names: the case notices and the 告知承诺书.
NOTICE_WORDS = {**NOTICE_KINDS, "commitment": "告知承诺书"}

# How the value of a key reads, where it is itself a code.
_VALUES = {
    "role": ROLES, "was": ROLES, "outcome": _OUTCOMES, "method": _DELIVERY, "rating": RATINGS,
    "kind": NOTICE_WORDS, "via": _VIA, "stands": SIDES,
}
_DATED = ("deadline", "due_date", "until")  # dates that calendar_complete qualifies


# A material entry back to 未提交 is the clerk's undo of a mistaken entry (intake/materials.py), not an entry.
MATERIAL_UNDONE = "撤销登记"


def event_word(action, detail=None):
    """What an event of a case did, as its history names it; ``detail`` tells an undo from an entry."""
    if action == "material" and isinstance(detail, dict) and detail.get("status") == "missing":
        return MATERIAL_UNDONE
    return EVENT_ACTIONS.get(action, action)


def audit_word(action):
    return AUDIT_ACTIONS.get(action, action)


def entity_word(entity):
    return ENTITIES.get(entity, entity)


def entity_id_word(entity, entity_id):
    """The record an entry is about, as read: a setting by its name on the settings page, others as recorded."""
    if entity == "setting" and entity_id:
        from .settings import SettingError, spec_for  # settings audits through audit, which reads these words

        try:
            spec = spec_for(entity_id)
        except SettingError:
            return entity_id
        return spec.label or spec.help.split("（")[0].split("，")[0]
    return entity_id or ""


def actor_word(actor, display_names=None):
    """A recorded actor as read: 李芳（li） for a user with a display name; ``cli:NAME`` is 命令行（NAME）."""
    if actor.startswith("cli:"):
        return f"命令行（{actor[4:]}）"
    shown = (display_names or {}).get(actor)
    return f"{shown}（{actor}）" if shown else ACTORS.get(actor, actor)


def detail_text(detail, names=None):
    """``detail`` (a dict of codes) as one line of Chinese: ``角色：窗口人员；部门：县民政局``.

    ``names`` maps material and matter codes to their names where the caller
    knows them (a case's page does). ``calendar_complete`` is not a line of its
    own: it marks the dates it qualifies (``statuses.dated``).
    """
    if not isinstance(detail, dict):
        return "" if detail in (None, "") else str(detail)
    names = names or {}
    complete = detail.get("calendar_complete", True) is not False
    parts = []
    for key, value in detail.items():
        if key == "calendar_complete" or value in (None, "", [], {}):
            continue
        shown = _value_text(key, value, names)
        if key in _DATED:
            shown = dated(shown, complete)
        parts.append(f"{DETAIL_KEYS.get(key, key)}：{shown}")
    return "；".join(parts)


def _value_text(key, value, names):
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, list):
        return "、".join(_value_text(key, v, names) for v in value)
    if isinstance(value, dict):  # e.g. one deferred material {"code", "until"}
        return f"（{detail_text(value, names)}）"
    if key == "status":
        return MATERIAL_STATUSES.get(value) or CASE_STATUSES.get(value, str(value))
    if key in ("code", "material", "materials", "matter", "matters"):
        return names.get(value, str(value))
    if key == "sha256":
        return f"{str(value)[:12]}…"
    table = _VALUES.get(key)
    return table.get(value, str(value)) if table else str(value)
