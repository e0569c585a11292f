"""Bulk-load a million realistic cases into a data folder, for the intake benchmark.

``python bench/load_cases.py DATA_DIR [--cases 1000000] [--resume | --force]``

Initialises the folder (seed catalogue, centre code ``331128101000``), then
writes cases straight to SQLite with ``executemany`` in transactions of
BATCH cases, ``PRAGMA synchronous=OFF`` only while loading. Each case has
what the intake code would have written: one item per matter pinned to the
real ``MatterRow`` of the catalogue version, the merged checklist, its events
and notices, a status mix by age (mostly delivered or concluded; recent ones
still accepted, registered, in correction or rejected), registration days
spread over the last three years (fewer on rest days), case numbers in the
domain's format, and the per-day counters left where new registrations
continue. ID numbers (GB 11643 check digit), credit codes (GB 32100) and
phones are unique.

The stream is deterministic (``--seed``): an interrupted load continues with
``--resume``, which regenerates the plan and writes only what is missing.
A folder that already has cases is refused unless ``--resume`` or
``--force`` (which adds ``--cases`` more, with counters continued).
"""
import argparse
import json
import multiprocessing
import random
import sys
import time
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import accumulate, product
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from county_app.intake import namesearch  # noqa: E402  (no database: the rule of the name index)

CENTRE = "331128101000"
YEARS = 3
BATCH = 10_000
REST_DAY_WEIGHT = 0.08  # a few centres open on Saturday mornings
CLERKS = [f"clerk{n:02d}" for n in range(1, 7)]

SURNAMES = ("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕"
            "丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃")
GIVEN = ("伟 芳 娜 秀英 敏 静 丽 强 磊 军 洋 勇 艳 杰 娟 涛 明 超 秀兰 霞 平 刚 桂英 建华 建国 志强 文杰 晓燕 海燕 "
         "红梅 玉兰 春梅 丹丹 婷婷 浩宇 子涵 欣怡 梓涵 一诺 宇轩 浩然 雨桐 思远 佳怡 国平 金凤 小红 建平 永明 "
         "德福 桂芳 玉珍 海波 晓东 俊杰 雪梅 立新 卫东 美华").split()
TOWNS = "城关镇 白鹤镇 海游镇 沙柳镇 健跳镇 亭旁镇 横渡镇 珠岙镇 花桥镇 浬浦镇 六敖镇 泗淋乡".split()
VILLAGES = "幸福村 东岙村 上叶村 下洋村 前山村 后岸村 新建社区 和平社区 塘头村 岭根村 溪口村 王家村".split()
ROADS = "人民路 解放路 中山路 环城北路 文化路 建设路 振兴路 工业园区纬一路".split()
SHOPS = "鑫源 恒泰 佳和 永盛 宏达 瑞丰 华信 金桥 同心 满福 好运来 顺达".split()
TRADES = "餐饮管理 物流 商贸 建材 科技 食品 运输 农业开发 电子 服装".split()
ID_REGIONS = ("331128 331082 331002 331003 331004 331021 331022 331023 331024 331081 331083 330225 330324 "
              "341122 362329 512529 431224 522121 450881 411524").split()
PHONE_HEADS = ("130 131 132 133 135 136 137 138 139 150 151 152 153 155 157 158 159 166 170 173 175 176 177 "
               "178 180 181 182 183 185 186 187 188 189 191 198 199").split()
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CREDIT_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CREDIT_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
REJECT_REASONS = ("申请事项不属于本机关职权范围，请向县市场监督管理局申请", "申请人不符合申请条件",
                  "申请人隐瞒有关情况或者提供虚假材料", "依法不需要取得行政许可")
# how often each 一件事 is asked for at a township window (others: 3)
BUNDLE_WEIGHTS = {"YJS-XSECS": 14, "YJS-JYRX": 12, "YJS-SBKFW": 20, "YJS-CJRFW": 6, "YJS-TX": 10, "YJS-SH": 10,
                  "YJS-QYBG": 5, "YJS-KBYS": 2, "YJS-KBCY": 5, "YJS-SDQW": 6, "YJS-XYXF": 3, "YJS-SSHC": 1,
                  "YJS-PCHC": 1}
# by age in days: (upper age bound, [(status, weight)])
STATUS_BY_AGE = (
    (1, (("registered", 25), ("correction", 8), ("accepted", 55), ("concluded", 8), ("rejected", 4))),
    (10, (("registered", 3), ("correction", 5), ("accepted", 42), ("concluded", 25), ("delivered", 22),
          ("rejected", 3))),
    (60, (("registered", 0.5), ("correction", 1), ("accepted", 6), ("concluded", 13), ("delivered", 77),
          ("rejected", 2.5))),
    (10 ** 6, (("registered", 0.2), ("correction", 0.5), ("accepted", 1), ("concluded", 6), ("delivered", 89.8),
               ("rejected", 2.5))),
)


# ----------------------------------------------------------------------------- identities

def id_number(rng, birth_from=date(1940, 1, 1), birth_days=24000):
    """A resident ID number with a valid GB 11643 check character."""
    birth = birth_from + timedelta(days=rng.randrange(birth_days))
    first = f"{rng.choice(ID_REGIONS)}{birth:%Y%m%d}{rng.randrange(1000):03d}"
    total = sum(int(d) * w for d, w in zip(first, ID_WEIGHTS))
    return first + "10X98765432"[total % 11]


def credit_code(rng):
    """A 统一社会信用代码 (enterprise, 91 + division) with a valid GB 32100 check character."""
    first = "91" + rng.choice(ID_REGIONS) + "".join(rng.choice(CREDIT_ALPHABET) for _ in range(9))
    total = sum(CREDIT_ALPHABET.index(c) * w for c, w in zip(first, CREDIT_WEIGHTS))
    return first + CREDIT_ALPHABET[(31 - total % 31) % 31]


def phone(rng):
    return rng.choice(PHONE_HEADS) + f"{rng.randrange(10 ** 8):08d}"


def unique(make, seen, rng):
    while True:
        value = make(rng)
        if value not in seen:
            seen.add(value)
            return value


def person_name(rng):
    return rng.choice(SURNAMES) + rng.choice(GIVEN)


def address(rng):
    return f"安澜县{rng.choice(TOWNS)}{rng.choice(VILLAGES)}{rng.randrange(1, 300)}号"


def new_applicant(rng, audience, seen):
    """An applicant dict as the API takes it; ``seen`` is {"id": set, "phone": set, "credit": set}."""
    if audience == "company":
        return {"kind": "company", "name": f"安澜县{rng.choice(SHOPS)}{rng.choice(TRADES)}有限公司",
                "credit_code": unique(credit_code, seen["credit"], rng), "legal_representative": person_name(rng),
                "phone": unique(phone, seen["phone"], rng), "address": address(rng)}
    return {"kind": "person", "name": person_name(rng), "id_number": unique(id_number, seen["id"], rng),
            "phone": unique(phone, seen["phone"], rng), "address": address(rng)}


# ----------------------------------------------------------------------------- catalogue templates

@dataclass
class Template:
    """One way a bundle is applied for: its answers and what the guide makes of them."""
    bundle_code: str
    bundle_name: str
    audience: str
    answers: dict
    matters: list  # guide.GuideMatter
    materials: list  # merging.Material (merged)
    fields: list  # merging.FormField (merged)
    weight: float


def bundle_templates():
    """Every distinct set of matters each enabled bundle of the catalogue in force can give (DB connected)."""
    from county_app.intake.facts import case_facts
    from county_app.intake.guide import guide_bundle
    from county_app.models import BundleRow, CatalogueVersion, QuestionRow

    version = CatalogueVersion.in_force()
    templates = []
    for bundle in BundleRow.select().where(BundleRow.catalogue == version, BundleRow.enabled == True).order_by(  # noqa: E712
            BundleRow.position):
        questions = list(QuestionRow.select().where(QuestionRow.bundle == bundle).order_by(QuestionRow.position))
        options = [[o.strip() for o in q.options.split("|") if o.strip()] for q in questions]
        found = {}
        for combo in product(*options):
            # The applicant of the bundle's audience, without an agent: the checklist a case then gets.
            guide = guide_bundle(bundle.code, dict(zip((q.code for q in questions), combo)), version=version,
                                 facts=case_facts(kind=bundle.audience, agent=False))
            if guide.questions or not guide.matters:
                continue
            key = tuple(m.code for m in guide.matters)
            found.setdefault(key, guide)
        weight = BUNDLE_WEIGHTS.get(bundle.code, 3) / max(len(found), 1)
        templates += [Template(bundle.code, bundle.name, bundle.audience, dict(g.answers), g.matters, g.materials,
                               g.fields, weight) for g in found.values()]
    return version, templates


def fake_form(template, applicant, rng, today):
    """Valid values for every field of the template's merged form (prefilled ones from the applicant)."""
    form = {}
    for field in template.fields:
        code, kind = field.code, field.type
        if kind == "id_number":
            own = applicant.get("id_number")
            value = own if field.prefill == "id_number" and own else id_number(rng)
        elif kind == "phone":
            value = applicant["phone"]
        elif kind == "credit_code":
            value = applicant.get("credit_code") or credit_code(rng)
        elif kind == "single":
            value = rng.choice(field.options)
        elif kind == "multi":
            value = rng.sample(list(field.options), k=min(2, len(field.options)))
        elif kind == "integer":
            value = rng.randrange(1, 200)
        elif kind == "money":
            value = f"{rng.randrange(10, 5000)}.00"
        elif kind == "date":
            value = (today - timedelta(days=rng.randrange(1, 60))).isoformat()
        elif field.prefill == "name" or code.endswith("XM") or code in ("FDDBR", "XFZRR", "SPAQGLY"):
            value = applicant["name"] if field.prefill == "name" else person_name(rng)
        elif field.prefill == "address" or code in ("ZZ", "BZDZ", "QYZS", "XSECSDD"):
            value = applicant.get("address") or address(rng)
        elif code == "QYMC":
            value = applicant["name"] if applicant["kind"] == "company" else f"安澜县{rng.choice(SHOPS)}有限公司"
        else:
            value = f"{field.name}{rng.randrange(1, 1000)}"
        form[code] = value
    return form


def logged_status(material, rng):
    """A status that satisfies a material as the catalogue allows: (status, trust, copies, licence_no)."""
    if material.waiver in ("e_licence", "data_sharing") and rng.random() < 0.6:
        return "exempt", "A", None, f"DZZZ-{rng.randrange(10 ** 9):09d}"
    if material.waiver == "commitment" and rng.random() < 0.5:
        return "commitment", "D", None, ""
    if material.form == "copy":
        return "copy_received", "C", material.copies, ""
    return "original_verified", "B", material.copies if material.form == "original_and_copy" else None, ""


# ----------------------------------------------------------------------------- rows

CASE_COLUMNS = ("id", "case_no", "catalogue_id", "bundle_code", "bundle_name", "status", "version",
                "applicant_kind", "applicant_name", "id_number", "credit_code", "legal_representative", "phone",
                "address", "agent", "answers", "form", "id_fields", "registered_at", "registered_on",
                "registered_by", "accepted_on", "due_date", "due_complete", "correction_count", "rejected_reason",
                "concluded_at", "delivered_at", "delivery_method", "tracking_no", "agent_phone", "case_no_reversed",
                "concluded_on")
ITEM_COLUMNS = ("case_id", "matter_id", "matter_code", "name", "department", "handling", "statutory_days",
                "promised_days", "position", "status", "due_date", "suspended_since", "suspended_days",
                "result_no", "result_note", "result_at", "result_by")
MATERIAL_COLUMNS = ("case_id", "code", "name", "necessity", "form", "copies", "waiver", "instructions", "matters",
                    "position", "status", "trust_level", "copies_received", "pages", "licence_no", "note",
                    "deferred_until", "logged_at", "logged_by")
EVENT_COLUMNS = ("case_id", "at", "actor", "action", "from_status", "to_status", "detail")
NOTICE_COLUMNS = ("case_id", "kind", "number", "issued_at", "issued_on", "issued_by", "deadline", "content")
GRAM_COLUMNS = ("gram", "case_id")  # the index of the search by part of a name (county_app/intake/namesearch.py)
TABLES = (("case_record", CASE_COLUMNS), ("case_item", ITEM_COLUMNS), ("case_material", MATERIAL_COLUMNS),
          ("case_event", EVENT_COLUMNS), ("case_notice", NOTICE_COLUMNS), ("case_name_gram", GRAM_COLUMNS))


def stamp(day, seconds):
    """The stored form of an aware UTC time: ``day`` at ``seconds`` after local (UTC+8) midnight."""
    seconds = max(8 * 3600, min(seconds, 32 * 3600 - 1)) - 8 * 3600
    return f"{day.isoformat()} {seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}.000000+00:00"


def dumps(value):
    return json.dumps(value, ensure_ascii=False, default=str)


class Generator:
    """Turns a deterministic plan of (day, sequence) into the rows of each case."""

    def __init__(self, version, templates, calendar, today, rng, seen):
        self.version, self.templates, self.today, self.rng, self.seen = version, templates, today, rng, seen
        self.cum_weights = list(accumulate(t.weight for t in templates))
        self.statuses = [(bound, [s for s, _ in table], list(accumulate(w for _, w in table)))
                         for bound, table in STATUS_BY_AGE]
        self.calendar = calendar
        self._due = {}
        self._after = {}
        for t in templates:
            t.register_detail = dumps({"bundle": t.bundle_code, "matters": [m.code for m in t.matters],
                                       "catalogue_version": version.version})
            t.answers_json = dumps(t.answers)
            t.id_fields = dumps([f.code for f in t.fields if f.type == "id_number"])
            t.checklist = [(m, (m.code, m.name, m.necessity, m.form, m.copies, m.waiver, m.instructions,
                                dumps(list(m.matters)), position)) for position, m in enumerate(t.materials)]
            t.items = [(m, (m.matter_id, m.code, m.name, m.department, m.handling, m.statutory_days,
                            m.promised_days, position)) for position, m in enumerate(t.matters)]

    def working_days_after(self, day, days):
        key = (day, days)
        due = self._due.get(key)
        if due is None:
            due = self._due[key] = self.calendar.working_days_after(day, days).day
        return due

    def pick_status(self, age):
        for bound, statuses, cum_weights in self.statuses:
            if age <= bound:
                return self.rng.choices(statuses, cum_weights=cum_weights)[0]

    def case(self, case_id, day, seq, seconds, out):
        """Append the rows of one case to ``out`` (a dict of lists by table)."""
        rng, today = self.rng, self.today
        t = rng.choices(self.templates, cum_weights=self.cum_weights)[0]
        status = self.pick_status((today - day).days)
        applicant = new_applicant(rng, t.audience, self.seen)
        form = fake_form(t, applicant, rng, day)
        case_no = f"{CENTRE}{day:%Y%m%d}{seq:05d}"
        clerk = CLERKS[seq % len(CLERKS)]
        agent = ""
        if rng.random() < 0.05:
            agent = dumps({"name": person_name(rng), "id_number": id_number(rng), "phone": phone(rng),
                           "relation": rng.choice(("配偶", "子女", "父母", "村（社区）代办员"))})
        events, notices, clock = [], [], [seconds]

        def at(minutes=0.0, when=day):
            if when != day:
                return stamp(when, 9 * 3600 + rng.randrange(8 * 3600))
            clock[0] += int(minutes * 60) + rng.randrange(1, 60)
            return stamp(when, clock[0])

        def event(action, from_status, to_status, detail, moment, actor=clerk):
            text = detail if isinstance(detail, str) else (dumps(detail) if detail else "")
            events.append((case_id, moment, actor, action, from_status, to_status, text))

        def notice(kind, moment, when, deadline, content):
            number = f"{case_no}-{len(notices) + 1:02d}"
            notices.append((case_id, kind, number, moment, when.isoformat(), clerk,
                            deadline.isoformat() if deadline else None, dumps(content)))
            return number

        event("register", "", "registered", t.register_detail, stamp(day, seconds))
        accepted = status in ("accepted", "concluded", "delivered")
        corrected = status == "correction" or (accepted and rng.random() < 0.06)
        # the checklist: which entries are supplied, and how
        materials, supplied_later = [], []
        for m, constant in t.checklist:
            state = None
            if m.necessity == "required":
                if accepted or rng.random() < 0.6:
                    state = logged_status(m, rng)
            elif m.necessity == "deferrable":
                if accepted or rng.random() < 0.5:
                    state = logged_status(m, rng) if rng.random() < 0.7 else ("deferred", None, None, "")
            elif rng.random() < 0.5:
                state = logged_status(m, rng)
            materials.append([m, constant, state])
        if corrected:  # at least one required entry was missing at first
            required = [entry for entry in materials if entry[0].necessity == "required"]
            if required:
                late = rng.sample(required, k=min(len(required), 1 + (rng.random() < 0.3)))
                for entry in late:
                    if status == "correction":
                        entry[2] = None
                    else:
                        supplied_later.append(entry)
        state_now = "registered"
        logged_at = {}
        for entry in materials:
            m, _, state = entry
            if state is None or state[0] == "deferred" or entry in supplied_later:
                continue
            moment = at(1.5)
            logged_at[m.code] = moment
            event("material", state_now, state_now, {"code": m.code, "status": state[0], "trust_level": state[1]},
                  moment)
        accepted_on = day
        if corrected and t.checklist:
            missing = [entry[0] for entry in materials if entry[0].necessity == "required"
                       and (entry[2] is None or entry in supplied_later)]
            deadline = self.working_days_after(day, 5)
            moment = at(3)
            number = notice("correction", moment, day, deadline, {"materials": [
                {"code": m.code, "name": m.name, "instructions": m.instructions} for m in missing]})
            event("correction", state_now, "correction", {"notice": number, "deadline": deadline,
                                                          "materials": [m.code for m in missing]}, moment)
            state_now = "correction"
            if accepted:
                accepted_on = min(self.working_days_after(day, rng.randrange(1, 5)), today)
                for entry in supplied_later:
                    moment = at(when=accepted_on)
                    logged_at[entry[0].code] = moment
                    event("material", state_now, state_now,
                          {"code": entry[0].code, "status": entry[2][0], "trust_level": entry[2][1]}, moment)
        # items, acceptance, results
        items, dues, result_times = [], [], []
        concluded = status in ("concluded", "delivered")
        accept_moment = at(2, accepted_on) if accepted else None
        deferred = []
        for m, _constant in t.items:
            items.append([m, "pending", None, "", None, ""])
        if accepted:
            for entry in materials:
                if entry[0].necessity == "deferrable" and entry[2] is None:
                    entry[2] = ("deferred", None, None, "")
                if entry[2] and entry[2][0] == "deferred":
                    until = self.working_days_after(accepted_on, 5)
                    entry.append(until)
                    deferred.append({"code": entry[0].code, "until": until})
                    logged_at.setdefault(entry[0].code, accept_moment)
            for item in items:
                m = item[0]
                item[2] = self.working_days_after(accepted_on, 0 if m.handling == "instant" else m.promised_days)
                dues.append(item[2])
            due_date = max(dues)
            number = notice("acceptance", accept_moment, accepted_on, None, {"due_date": due_date})
            event("accept", state_now, "accepted", {"accepted_on": accepted_on, "due_date": due_date,
                                                    "deferred": deferred, "notice": number}, accept_moment)
            state_now = "accepted"
            open_left = len(items)
            for item in items:
                m = item[0]
                if not concluded and (m.handling != "instant" or rng.random() < 0.3 or open_left == 1):
                    continue
                outcome = "denied" if rng.random() < 0.03 else "approved"
                when = min(item[2], today)
                moment = at(5) if when == day else at(when=when)
                actor = m.code.split("-")[0].lower() + "01"
                item[1:] = [outcome, item[2], f"{m.code}-{when.year}-{rng.randrange(10 ** 6):06d}", moment, actor]
                result_times.append(moment)
                open_left -= 1
                event("result", "accepted", "accepted", {"matter": m.code, "outcome": outcome,
                                                         "result_no": item[3]}, moment, actor)
        else:
            due_date = None
        concluded_at = delivered_at = delivery_method = None
        tracking_no = rejected_reason = ""
        if concluded:
            concluded_at = max(result_times)
            number = notice("completion", concluded_at, date.fromisoformat(concluded_at[:10]), None, {})
            event("conclude", "accepted", "concluded", {"notice": number}, concluded_at)
            if status == "delivered":
                when = min(date.fromisoformat(concluded_at[:10]) + timedelta(days=rng.randrange(0, 4)), today)
                delivered_at = stamp(when, 16 * 3600 + rng.randrange(3600))
                delivery_method = "mail" if rng.random() < 0.15 else "window"
                tracking_no = f"SF{rng.randrange(10 ** 12):012d}" if delivery_method == "mail" else ""
                event("deliver", "concluded", "delivered", {"method": delivery_method, "tracking_no": tracking_no},
                      delivered_at)
        if status == "rejected":
            rejected_reason = rng.choice(REJECT_REASONS)
            moment = at(10)
            number = notice("rejection", moment, day, None, {"reason": rejected_reason})
            event("reject", state_now, "rejected", {"reason": rejected_reason, "notice": number}, moment)
        form_json = dumps(form)
        out["case_record"].append((
            case_id, case_no, self.version.id, t.bundle_code, t.bundle_name, status, len(events),
            applicant["kind"], applicant["name"], applicant.get("id_number"), applicant.get("credit_code"),
            applicant.get("legal_representative", ""), applicant["phone"], applicant["address"], agent,
            t.answers_json, form_json, t.id_fields, stamp(day, seconds), day.isoformat(), clerk,
            accepted_on.isoformat() if accepted else None, due_date.isoformat() if due_date else None, 1,
            1 if corrected else 0, rejected_reason, concluded_at, delivered_at, delivery_method, tracking_no,
            namesearch.agent_phone(agent), case_no[::-1], concluded_at[:10] if concluded_at else None))
        out["case_name_gram"].extend(
            (gram, case_id) for gram in namesearch.case_grams(applicant["name"], namesearch.agent_name(agent)))
        for (m, constant), item in zip(t.items, items):
            out["case_item"].append((case_id,) + constant + (
                item[1], item[2].isoformat() if item[2] else None, None, 0, item[3], "", item[4], item[5]))
        for entry in materials:
            m, constant, state = entry[:3]
            if state is None:
                tail = ("missing", None, None, None, "", "", None, None, "")
            else:
                if state[0] == "deferred" and len(entry) == 3:
                    entry.append(self.working_days_after(day, 5))
                until = entry[3].isoformat() if len(entry) > 3 else None
                tail = (state[0], state[1], state[2], None, state[3], "", until,
                        logged_at.get(m.code) or stamp(day, seconds + 120), clerk)
            out["case_material"].append((case_id,) + constant + tail)
        out["case_event"].extend(events)
        out["case_notice"].extend(notices)


# ----------------------------------------------------------------------------- the plan

def plan_days(count, today, calendar, rng):
    """[(day, cases that day)] over the last YEARS years, rest days weighted REST_DAY_WEIGHT."""
    start = today - timedelta(days=365 * YEARS)
    days = [start + timedelta(days=n) for n in range((today - start).days + 1)]
    weights = [(1.0 if calendar.is_working_day(d) else REST_DAY_WEIGHT) * rng.uniform(0.8, 1.2) for d in days]
    total = sum(weights)
    shares = [count * w / total for w in weights]
    counts = [int(s) for s in shares]
    for i in sorted(range(len(days)), key=lambda i: shares[i] - counts[i], reverse=True)[:count - sum(counts)]:
        counts[i] += 1
    return [(d, c) for d, c in zip(days, counts) if c]


def insert_sql(table, columns):
    return f'INSERT INTO "{table}" ({", ".join(columns)}) VALUES ({", ".join("?" * len(columns))})'


def write_batch(conn, out, counters):
    for table, columns in TABLES:
        conn.executemany(insert_sql(table, columns), out[table])
        out[table].clear()
    conn.executemany('INSERT INTO case_number_counter (prefix, "last") VALUES (?, ?) ON CONFLICT(prefix) '
                     'DO UPDATE SET "last" = max("last", excluded."last")', sorted(counters.items()))
    counters.clear()


def produce(queue, generator, days, base, first_id, skip, batch, last_case_no):
    """In the generating process: put ``(rows by table, counters, cases planned so far)`` per batch, then None."""
    try:
        out, counters = {table: [] for table, _ in TABLES}, {}
        case_id, done = first_id, 0
        for day, count in days:
            prefix = f"{CENTRE}{day:%Y%m%d}"
            first_seq = base.get(prefix, 0) + 1
            for n in range(count):
                seq = first_seq + n
                seconds = 8 * 3600 + 30 * 60 + int(9 * 3600 * n / count)  # 08:30 … 17:30 local, in order
                generator.case(case_id, day, seq, seconds, out)
                if done >= skip:
                    counters[prefix] = seq
                else:  # regenerated to keep the random stream; already in the database
                    for rows in out.values():
                        rows.clear()
                    if done == skip - 1 and last_case_no != f"{prefix}{seq:05d}":
                        queue.put(f"--resume: the last case is {last_case_no}, the plan says {prefix}{seq:05d}; "
                                  "not this plan (other --cases or --seed?)")
                        return
                case_id += 1
                done += 1
                if len(out["case_record"]) >= batch:
                    queue.put((out, counters, done))
                    out, counters = {table: [] for table, _ in TABLES}, {}
        if out["case_record"]:
            queue.put((out, counters, done))
        queue.put(None)
    except Exception as exc:  # tell the writer, which would otherwise wait
        queue.put(f"generator failed: {exc!r}")


def load(data_dir, cases, *, seed=20261122, resume=False, force=False, batch=BATCH):
    """Initialise ``data_dir`` and load ``cases`` cases; give a dict of what was done."""
    from county_app import settings
    from county_app.bootstrap import initialise
    from county_app.catalogue.store import work_calendar
    from county_app.db import database_path, db
    from county_app.intake.records import Case, CaseNumberCounter

    started = time.perf_counter()
    initialise(data_dir)
    db.connect(reuse_if_open=True)
    with db.atomic():
        settings.put("centre.code", CENTRE)
    existing = Case.select().count()
    skip = 0
    if existing and resume:
        skip = existing
        if skip >= cases:
            print(f"{existing} cases already loaded; nothing to do")
            return {"loaded": 0, "existing": existing, "seconds": 0.0}
    elif existing and not force:
        raise SystemExit(f"{data_dir} already has {existing} cases: --resume to finish an interrupted load "
                         f"of --cases {cases}, --force to add {cases} more")
    today = date.today()
    rng = random.Random(seed if not (existing and force) else seed + existing)
    seen = {"id": set(), "phone": set(), "credit": set()}
    if existing and force:  # keep the new numbers unique against the old
        for number, mobile, code in Case.select(Case.id_number, Case.phone, Case.credit_code).tuples().iterator():
            seen["id"].add(number), seen["phone"].add(mobile), seen["credit"].add(code)
    version, templates = bundle_templates()
    calendar = work_calendar()
    generator = Generator(version, templates, calendar, today, rng, seen)
    days = plan_days(cases, today, calendar, rng)
    base = dict(CaseNumberCounter.select(CaseNumberCounter.prefix, CaseNumberCounter.last).tuples()) if force else {}
    first_id = (Case.select(Case.id).order_by(Case.id.desc()).scalar() or 0) + 1 if force else 1
    last = None
    if skip:  # the plan's case number at the resume point must be the last one written
        last = Case.select(Case.id, Case.case_no).order_by(Case.id.desc()).first()
        if last.id != skip:
            raise SystemExit("--resume works only on a folder loaded by this script alone; use --force")
    print(f"plan: {cases:,} cases over {len(days)} days ({days[0][0]} … {days[-1][0]}), "
          f"{len(templates)} ways to apply for {len({t.bundle_code for t in templates})} bundles"
          + (f"; resuming after {skip:,}" if skip else ""), flush=True)
    conn = db.connection()
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("PRAGMA cache_size=-1000000")  # 1 GB while loading: the index pages stay in memory
    # One process generates (fork: it inherits the plan, never touches the connection), this one writes.
    queue = multiprocessing.get_context("fork").Queue(maxsize=3)
    worker = multiprocessing.get_context("fork").Process(target=produce, daemon=True, args=(
        queue, generator, days, base, first_id, skip, batch, last.case_no if skip else None))
    written = 0
    loading = time.perf_counter()
    worker.start()
    try:
        while (message := queue.get(timeout=600)) is not None:
            if isinstance(message, str):
                raise SystemExit(message)
            out, counters, done = message
            written += len(out["case_record"])
            with db.atomic():
                write_batch(conn, out, counters)
            if written % (batch * 10) < batch:
                rate = written / (time.perf_counter() - loading)
                print(f"  {done:,} / {cases:,} cases  {rate:,.0f} cases/s  eta {(cases - done) / rate:,.0f} s",
                      flush=True)
    finally:
        if worker.is_alive():
            worker.terminate()
        worker.join(timeout=10)
        conn.execute("PRAGMA synchronous=FULL")  # db.PRAGMAS: what the application runs with
        conn.execute("PRAGMA cache_size=-16000")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    seconds = time.perf_counter() - started
    counted = {table: "count(*)" if table == "case_name_gram" else "max(rowid)" for table, _ in TABLES}  # no rowid
    rows = {table: conn.execute(f'SELECT {counted[table]} FROM "{table}"').fetchone()[0] or 0 for table, _ in TABLES}
    db.close()
    size = database_path(data_dir).stat().st_size
    print(f"loaded {written:,} cases in {seconds:,.0f} s ({written / max(seconds, 1e-9):,.0f} cases/s); rows: "
          + ", ".join(f"{table} {count:,}" for table, count in rows.items()))
    print(f"database {database_path(data_dir)}: {size / 2 ** 30:.2f} GiB")
    return {"loaded": written, "existing": existing, "seconds": seconds, "rows": rows, "bytes": size}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data_dir")
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=20261122)
    parser.add_argument("--batch", type=int, default=BATCH, help="cases per transaction")
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--resume", action="store_true", help="finish an interrupted load of --cases (same --seed)")
    group.add_argument("--force", action="store_true", help="add --cases more to a folder that has cases")
    args = parser.parse_args(argv)
    Path(args.data_dir).mkdir(parents=True, exist_ok=True)
    load(args.data_dir, args.cases, seed=args.seed, resume=args.resume, force=args.force, batch=args.batch)


if __name__ == "__main__":
    main()
