"""Who may do what: the roles and the one table of permissions.

Every role check in the program asks ``allowed(role, permission)``; no view or
command compares role names itself.
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


class AccessDenied(Exception):
    """The user's role does not allow the action."""


def allowed(role, permission):
    return role in PERMISSIONS[permission]


def check(role, permission):
    if not allowed(role, permission):
        raise AccessDenied(f"当前角色（{ROLES.get(role, role)}）无权进行此操作")
