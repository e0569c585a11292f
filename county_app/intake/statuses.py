"""The status codes of cases, items and materials, with their Chinese words for the screens."""

CASE_STATUSES = {
    "registered": "待受理",
    "correction": "待补正",
    "accepted": "已受理",
    "concluded": "已办结",
    "delivered": "已出件",
    "rejected": "不予受理",
}

ITEM_STATUSES = {
    "pending": "办理中",
    "suspended": "暂停计时",
    "approved": "准予",
    "denied": "不予",
}

MATERIAL_STATUSES = {
    "missing": "未提交",
    "original_verified": "原件已核验",
    "copy_received": "已收复印件",
    "scanned": "已扫描",
    "exempt": "免提交",
    "commitment": "告知承诺",
    "deferred": "容缺后补",
}

# Statuses that satisfy a 必要 material at acceptance.
SATISFIED = frozenset({"original_verified", "copy_received", "scanned", "exempt", "commitment"})

# 国办函〔2016〕108号: A issued by the authority, B checked against the original,
# C handed in or uploaded unchecked, D the applicant's own commitment.
TRUST_LEVELS = {
    "exempt": "A",
    "original_verified": "B",
    "copy_received": "C",
    "scanned": "C",
    "commitment": "D",
}

WAIVER_LABELS = {"e_licence": "电子证照", "data_sharing": "数据共享", "commitment": "告知承诺"}

# 行政许可法 第45条 (and 现场踏勘, which local rules add): time not counted.
SUSPENSION_REASONS = ("听证", "招标", "拍卖", "检验", "检测", "检疫", "鉴定", "专家评审", "现场踏勘")

NOTICE_KINDS = {
    "receipt": "收件回执",
    "acceptance": "受理通知书",
    "correction": "一次性补正告知书",
    "rejection": "不予受理通知书",
    "completion": "办结通知书",
}

# A date counted in working days into a year whose 调休 was not yet published (workdays.Due): the
# mark shown after it wherever it is shown or printed (the case's own due date says more, see cases/show.html).
CALENDAR_MARK = "（调休安排未公布，日期可能变动）"


def dated(day, complete=True):
    """``day`` (text) followed by CALENDAR_MARK when it was counted without a year's 调休; '' for no day."""
    if not day:
        return ""
    return f"{day}{'' if complete else CALENDAR_MARK}"


RATINGS = {5: "非常满意", 4: "满意", 3: "基本满意", 2: "不满意", 1: "非常不满意"}
