"""The catalogue's enumerations: the Chinese words of the workbook and the codes the program uses.

This is the one place where a catalogue word such as 即办件 is tied to a code
such as ``instant``. The reader, the writer and the UI all look words up here.
"""

MATTER_KINDS = {
    "行政许可": "licence",
    "行政确认": "confirmation",
    "行政给付": "benefit",
    "行政裁决": "adjudication",
    "行政奖励": "award",
    "行政备案": "filing",
    "其他行政权力": "other_power",
    "公共服务": "public_service",
}
HANDLING = {"即办件": "instant", "承诺件": "promised"}
STATUS = {"启用": True, "停用": False}
MATERIAL_FORMS = {"原件": "original", "复印件": "copy", "原件和复印件": "original_and_copy"}
MEDIA = {"纸质": "paper", "电子": "electronic", "纸质或电子": "either"}
SOURCES = {"申请人自备": "applicant", "政府部门核发": "government", "其他": "other"}
NECESSITY = {"必要": "required", "非必要": "optional", "容缺": "deferrable"}
WAIVERS = {"电子证照": "e_licence", "数据共享": "data_sharing", "告知承诺": "commitment"}
FIELD_TYPES = {
    "文本": "text",
    "整数": "integer",
    "金额": "money",
    "日期": "date",
    "身份证号": "id_number",
    "统一社会信用代码": "credit_code",
    "手机号": "phone",
    "单选": "single",
    "多选": "multi",
}
YES_NO = {"是": True, "否": False}
# 预填来源: an applicant attribute (the code is the key of the applicant's details: ``name`` is a
# person's or a company's name), an agent attribute (``agent.<key>``) or another field of the merged
# form (表单.字段编码 → ``form.<字段编码>``, see ``prefill_code``).
PREFILL = {
    "申请人.姓名": "name",
    "申请人.证件号码": "id_number",
    "申请人.统一社会信用代码": "credit_code",
    "申请人.法定代表人": "legal_representative",
    "申请人.手机号": "phone",
    "申请人.地址": "address",
    "代办人.姓名": "agent.name",
    "代办人.证件号码": "agent.id_number",
    "代办人.手机号": "agent.phone",
}
AGENT_SOURCE = "agent."  # the codes of the agent's attributes: agent.<key of the agent's details>
FORM_PREFIX = "表单."  # a 预填来源 naming another field of the merged form
FORM_SOURCE = "form."  # its code: form.<字段编码>
AUDIENCES = {"个人": "person", "企业": "company"}
MEMBERSHIP = {"必选": True, "可选": False}
DAY_KINDS = {"休息日": "rest", "工作日": "work"}


def prefill_code(word):
    """The code of a 预填来源 word (``申请人.姓名`` → ``name``, ``表单.XSEXM`` → ``form.XSEXM``), or None if unknown."""
    if word in PREFILL:
        return PREFILL[word]
    if isinstance(word, str) and word.startswith(FORM_PREFIX) and word[len(FORM_PREFIX):].strip():
        return FORM_SOURCE + word[len(FORM_PREFIX):].strip()
    return None


def prefill_word(code):
    """The 预填来源 word of a code, the reverse of ``prefill_code`` ('' for None)."""
    if code and code.startswith(FORM_SOURCE):
        return FORM_PREFIX + code[len(FORM_SOURCE):]
    return word_for(PREFILL, code)


# The applicant's attributes as a company's form names them (its 名称, not a 姓名).
COMPANY_SOURCES = {"name": "申请单位名称", "credit_code": "申请单位统一社会信用代码",
                   "legal_representative": "申请单位法定代表人", "phone": "申请单位联系手机号",
                   "address": "申请单位地址"}


def prefill_label(code, names=None, applicant_kind=None):
    """How a 预填来源 reads on screen: 申请人姓名, 代办人手机号, or the named field's name (``names``:
    {field code: name}; without it, or for a code not in it, ``表单字段 XSEXM``). With
    ``applicant_kind`` "company" the applicant's attributes read as the company's (申请单位名称)."""
    field = prefill_field(code)
    if field is None:
        if applicant_kind == "company" and code in COMPANY_SOURCES:
            return COMPANY_SOURCES[code]
        return word_for(PREFILL, code).replace(".", "")
    return (names or {}).get(field) or f"表单字段 {field}"


def prefill_field(code):
    """The 字段编码 a 预填来源 code takes its value from (``form.XSEXM`` → ``XSEXM``), or None."""
    return code[len(FORM_SOURCE):] if code and code.startswith(FORM_SOURCE) else None


def word_for(table, code):
    """The catalogue word for ``code`` in ``table`` (the reverse look-up), or '' for None."""
    for word, value in table.items():
        if value == code:
            return word
    return ""
