"""Who may do what: the roles and the one table of permissions.

Every role check in the program asks ``allowed(role, permission, at_hub=…)``;
no view or command compares role names itself.

At the county hub some permissions belong to fewer roles or to none
(``AT_HUB``), by who owns what (docs/sync.md): the township's window owns
registration, materials, 受理, 补正, 不予受理, 出件 and 好差评 with its 整改,
so at the hub nobody does them; a result or a suspension there is the
department's own act (a clerk records one only at the window, 窗口代录).
"""

ROLES = {
    "clerk": "窗口人员",
    "county": "目录管理员",
    "department": "部门审批人员",
    "admin": "系统管理员",
}

PERMISSIONS = {
    "catalogue.browse": {"clerk", "county", "department", "admin"},
    "catalogue.import": {"county"},
    "catalogue.export": {"county", "admin"},
    "cases.view": {"clerk", "department", "admin"},
    # Every case of the node; the others with cases.view see only the cases holding an item of
    # their department (intake/visibility.py, the one rule of which cases an actor may see).
    "cases.view_all": {"clerk", "admin"},
    "cases.handle": {"clerk"},  # register, log materials, accept, correct, reject, deliver, rate
    "cases.result": {"clerk", "department"},  # a department only for its own department's items
    "cases.override": {"admin"},  # a second correction notice, with a reason
    "rectification.manage": {"admin"},
    "reports.view": {"clerk", "county", "department", "admin"},
    "users.manage": {"admin"},
    "audit.view": {"admin"},
    "settings.manage": {"admin"},
    "backups.manage": {"admin"},  # back up now, and choose a backup to restore
    "health.view": {"admin"},  # the 运行状况 page: disk, backups, sync, calendar coverage
    "sync.view": {"clerk", "admin"},  # the 同步 page (read-only for a clerk)
    "sync.manage": {"admin"},  # 立即同步, the sync settings, resolving a sync conflict
}


# The permissions whose roles differ at the county hub (docs/sync.md, Who owns what).
AT_HUB = {
    "cases.handle": set(),
    "cases.override": set(),
    "rectification.manage": set(),
    "cases.result": {"department"},
}
TOWNSHIP_OWNS = ("本机是县级汇聚中心：登记办件、收取材料、受理、补正、不予受理、出件和好差评（含差评整改）"
                 "由办件所属乡镇的便民服务中心窗口办理，汇聚中心不能办理")
DEPARTMENT_OWNS = ("本机是县级汇聚中心：事项的办理结果和暂停计时由该事项的部门审批人员录入；"
                   "部门的书面决定只能在乡镇窗口代录")


class AccessDenied(Exception):
    """The user's role does not allow the action."""


def allowed(role, permission, *, at_hub=False):
    """Whether ``role`` has ``permission`` on this node (``at_hub``: the node is the county hub)."""
    roles = AT_HUB.get(permission, PERMISSIONS[permission]) if at_hub else PERMISSIONS[permission]
    return role in roles


def check(role, permission, *, at_hub=False):
    """AccessDenied unless ``role`` has ``permission``, saying who owns the action when the hub refuses it."""
    if not allowed(role, permission, at_hub=at_hub):
        raise AccessDenied(refusal(role, permission, at_hub=at_hub))


def refusal(role, permission, *, at_hub=False):
    """The words of a refusal of ``permission`` to ``role``."""
    if at_hub and permission in AT_HUB:
        if not AT_HUB[permission]:
            return TOWNSHIP_OWNS
        if role in PERMISSIONS[permission]:
            return DEPARTMENT_OWNS
    return f"当前角色（{ROLES.get(role, role)}）无权进行此操作"
