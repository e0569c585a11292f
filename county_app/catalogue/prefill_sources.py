"""The 预填来源 of the 表单 sheet checked across rows: a field named by 表单.字段编码 exists, and no field
waits for itself.

Called by ``validate.build_catalogue`` with the sheet's parsed rows; each cell's own word is already
read by ``xlsx_columns.prefill_source`` (which knows the vocabulary, not the other rows).
"""
from . import vocabulary


def check_prefill_sources(check, records):
    """A 预填来源 表单.字段编码 names a field of the catalogue, never the field itself, and makes no cycle.

    A field filled from another field of the merged form, which is filled from the first, would
    wait for itself: every row on such a cycle is an error, with the cycle spelled out.
    """
    codes = {record["code"] for _, record in records if record["code"] is not None}
    sources = {}  # field code -> the field codes it fills from (a field may fill differently per matter)
    named = []
    for row, record in records:
        code, source = record["code"], vocabulary.prefill_field(record["prefill"])
        if source is None or code is None:
            continue
        word = vocabulary.prefill_word(record["prefill"])
        if source == code:
            check.error("prefill", row, f"字段 “{code}” 的预填来源 “{word}” 是它自己")
        elif source not in codes:
            check.error("prefill", row, f"预填来源 “{word}” 引用的字段编码 “{source}” 在“表单”表中不存在")
        else:
            sources.setdefault(code, set()).add(source)
            named.append((row, code, source, word))
    for row, code, source, word in named:
        path = _path(sources, source, code)
        if path is not None:
            cycle = " → ".join([code, *path])
            check.error("prefill", row, f"字段 “{code}” 的预填来源 “{word}” 形成循环（{cycle}），这些字段无法自动填写")


def _path(sources, start, goal):
    """The field codes from ``start`` to ``goal`` along the 预填来源 references, or None if none leads there."""
    came_from, queue = {start: None}, [start]
    while queue:
        here = queue.pop(0)
        if here == goal:
            path = []
            while here is not None:
                path.append(here)
                here = came_from[here]
            return path[::-1]
        for after in sorted(sources.get(here, ())):
            if after not in came_from:
                came_from[after] = here
                queue.append(after)
    return None
