"""The 预填来源 of the 表单 sheet checked across rows: a field named by 表单.字段编码 exists, and no field
waits for itself.

Called by ``validate.build_catalogue`` with the sheet's parsed rows; each cell's own word is already
read by ``xlsx_columns.prefill_source`` (which knows the vocabulary, not the other rows).
"""
import collections

from . import vocabulary

SPELLED_OUT = 12  # a cycle of more fields is counted, not spelled out, in each of its rows' errors


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
    component = _components(sources)
    sizes = {}
    for index in component.values():
        sizes[index] = sizes.get(index, 0) + 1
    for row, code, source, word in named:
        if component[code] != component[source]:
            continue  # the reference leads out of any cycle
        group = component[code]
        if sizes[group] <= SPELLED_OUT:
            path = _path(sources, source, code, lambda field: component[field] == group)
            cycle = "（" + " → ".join([code, *path]) + "）"
        else:
            cycle = f"（共 {sizes[group]} 个字段互相引用）"
        check.error("prefill", row, f"字段 “{code}” 的预填来源 “{word}” 形成循环{cycle}，这些字段无法自动填写")


def _components(sources):
    """{field code: its strongly connected component} of the references (Kosaraju's, without recursion).

    Two fields are in one component when each leads to the other: a reference inside one is on a
    cycle. Linear in the references, so that a hostile workbook of long chains stays quick.
    """
    nodes = set(sources) | {other for targets in sources.values() for other in targets}
    order, seen = [], set()
    for start in sorted(nodes):
        if start in seen:
            continue
        seen.add(start)
        stack = [(start, iter(sorted(sources.get(start, ()))))]
        while stack:
            node, following = stack[-1]
            after = next(following, None)
            if after is None:
                stack.pop()
                order.append(node)
            elif after not in seen:
                seen.add(after)
                stack.append((after, iter(sorted(sources.get(after, ())))))
    reverse = {}
    for node, targets in sources.items():
        for other in targets:
            reverse.setdefault(other, []).append(node)
    component = {}
    for index, start in enumerate(reversed(order)):
        if start in component:
            continue
        component[start], stack = index, [start]
        while stack:
            for before in reverse.get(stack.pop(), ()):
                if before not in component:
                    component[before] = index
                    stack.append(before)
    return component


def _path(sources, start, goal, inside):
    """The field codes from ``start`` to ``goal`` along the references between fields ``inside`` allows."""
    came_from, queue = {start: None}, collections.deque([start])
    while queue:
        here = queue.popleft()
        if here == goal:
            path = []
            while here is not None:
                path.append(here)
                here = came_from[here]
            return path[::-1]
        for after in sorted(sources.get(here, ())):
            if after not in came_from and inside(after):
                came_from[after] = here
                queue.append(after)
    return []
