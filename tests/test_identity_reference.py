"""Our identity checks against a reference nobody here wrote: python-stdnum's ``cn.ric`` and ``cn.uscc``.

Over a generated set of numbers — valid ones built with the right check
character for every province, mutations of them, and stdnum's own example
numbers — ``check_id_number`` and ``check_credit_code`` must give stdnum's
verdict, except where stdnum departs from the standards or from what this
program must accept. Each departure is named below and tested on its own, and
the comparison fails if a disagreement has no named reason, or if a named
reason never occurs any more (a newer stdnum that fixed it should be noticed):

ID numbers (GB 11643-1999)
- ``table``: stdnum looks the six-digit address code up in its table of
  counties and the years each existed, and refuses a code it lacks (2.2 even
  raises KeyError for an unknown county of a known city, such as 331128, the
  安澜县 of our tests). We check only the province: counties are renamed and
  merged, and the numbers people already hold stay valid.
- ``permit``: the residence permits of Hong Kong, Macao and Taiwan residents
  (810000, 820000, 830000). stdnum has no 83 and knows 81 and 82 only from
  1997 and 1999, so a Hong Kong resident born in 1990 is refused there.
- ``taiwan``: stdnum accepts 71 (台湾省 in GB/T 2260); no resident ID is
  issued with it (Taiwan residents' permits carry 83), and we refuse it.
- ``birth_range``: a birth date after today or before 1900; stdnum does not look.
Credit codes (GB 32100-2015)
- ``letter_authority``: a letter as 登记管理部门 or 机构类别 (A, N 农业, Y 其他 …).
  GB 32100 allows them; stdnum requires digits in the first eight places.
Typed forms: stdnum reads no full-width digits (InvalidFormat). Verdicts are
compared on the ASCII form; ``test_typed_forms_get_the_verdict_of_their_ascii``
checks that every typed form of a number gets the verdict of its ASCII form.
"""
import doctest
import random
import re
from datetime import date, timedelta

import pytest
from stdnum.cn import ric, uscc
from stdnum.exceptions import ValidationError

from county_app.identity import (
    CREDIT_ALPHABET,
    PROVINCE_CODES,
    IdentityError,
    check_credit_code,
    check_id_number,
    credit_check_char,
    id_check_char,
)

TODAY = date(2026, 11, 20)
SEED = 20261120
# From python-stdnum's tests/test_cn_ric.doctest and test_cn_uscc.doctest (in its source, not its wheel).
STDNUM_TEST_IDS = [
    "360426199101010071", "44011320141005001x", "412723199010050012", "110102199101010078", "120110198012010073",
    "120110199212010072", "990426199112010074", "110111198012010078", "110201199312010077", "T60426199101010078",
    "360426199113010079", "36042619910102009X",
]
STDNUM_TEST_CODES = [
    "91110000600037341L", "91 110000 600037341L", "12345", "A1110000600037341L", "9111000060003IOZSV",
    "91110000600037341N", "121200004013590816", "91152201078377449P", "9115220107837941X1", "91310115MA1K3BTP2B",
    "91340600MA2PBM9HXD", "9144030071526726XG", "91620105L015101280", "92340602MA2PBQAH7E", "92340603MA2PBMD304",
]


def stdnum_accepts(module, number):
    try:
        module.validate(number)
    except ValidationError:
        return False
    except KeyError:  # stdnum 2.2, cn.ric.get_birth_place: a county its table lacks under a city it has
        return False
    return True


def we_accept(check, number, **kwargs):
    try:
        check(number, **kwargs)
    except IdentityError:
        return False
    return True


def stdnum_examples(module):
    """The numbers in ``validate('…')`` calls of ``module``'s own docstring examples."""
    sources = [example.source for example in doctest.DocTestParser().get_examples(module.__doc__)]
    return [number for source in sources for number in re.findall(r"validate\('([^']*)'\)", source)]


def mutations(rng, number, alphabet):
    """A few wrong copies of ``number``: one character changed, two swapped, one dropped or doubled."""
    position = rng.randrange(len(number))
    swap = rng.randrange(len(number) - 1)
    return [number[:position] + rng.choice(alphabet.replace(number[position], "")) + number[position + 1:],
            number[:swap] + number[swap + 1] + number[swap] + number[swap + 2:],
            number[:position] + number[position + 1:],
            number[:position] + number[position] + number[position:]]


# ----------------------------------------------------------------------------- resident ID numbers


def stdnum_knows_region(region, birth):
    number = f"{region}{birth:%Y%m%d}001"
    try:
        ric.get_birth_place(number + id_check_char(number))
    except (ValidationError, KeyError):
        return False
    return True


def region_for(rng, province, birth):
    """A county code of ``province`` that stdnum's table holds for ``birth``'s year, when it has one in a few tries."""
    for _ in range(40):
        region = f"{province}{rng.randrange(1, 20):02d}{rng.randrange(1, 20):02d}"
        if stdnum_knows_region(region, birth):
            return region
    return f"{province}0000"


def generated_id_numbers():
    """Valid numbers for every two-digit prefix (with the edges of the birth date) and mutations of them."""
    rng = random.Random(SEED)
    edges = [date(1900, 1, 1), date(1899, 12, 31), date(2000, 2, 29), TODAY, TODAY + timedelta(days=1)]
    numbers = []
    for prefix in (f"{n:02d}" for n in range(100)):
        count = 40 if prefix in PROVINCE_CODES else 8
        births = edges + [date(1900, 1, 1) + timedelta(days=rng.randrange(46000)) for _ in range(count)]
        for birth in births:
            if prefix in PROVINCE_CODES and prefix not in ("81", "82", "83"):
                region = region_for(rng, prefix, birth)
            else:
                region = prefix + "0000"
            first17 = f"{region}{birth:%Y%m%d}{rng.randrange(1000):03d}"
            valid = first17 + id_check_char(first17)
            numbers += [valid] + mutations(rng, valid, "0123456789X")
    numbers += [f"{prefix}0426{day}0074" for prefix in ("11", "33", "99") for day in ("19910229", "19911301", "19910100")]
    return numbers + [number.upper() for number in STDNUM_TEST_IDS + stdnum_examples(ric)]


def id_departures(number):
    """The named departures that may explain a different verdict on ``number``: {name: do we accept}."""
    reasons = {}
    if len(number) != 18 or not number[:17].isdigit() or id_check_char(number[:17]) != number[17]:
        return reasons
    try:
        birth = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return reasons
    if birth > TODAY or birth < date(1900, 1, 1):
        reasons["birth_range"] = False
    elif number[:2] in ("81", "82", "83"):
        reasons["permit"] = True
    elif number[:2] == "71":
        reasons["taiwan"] = False
    elif number[:2] in PROVINCE_CODES and not stdnum_knows_region(number[:6], birth):
        reasons["table"] = True
    return reasons


def test_id_numbers_agree_with_stdnum_but_for_the_named_departures():
    numbers = generated_id_numbers()
    assert len(numbers) > 8000
    seen, agreed = set(), {True: 0, False: 0}
    for number in numbers:
        ours, theirs = we_accept(check_id_number, number, today=TODAY), stdnum_accepts(ric, number)
        departures = id_departures(number)
        if ours == theirs:
            if not departures:
                agreed[ours] += 1
            continue
        explained = [name for name, we_do in departures.items() if we_do == ours]
        assert explained, f"{number}: we {'accept' if ours else 'refuse'}, stdnum does not, and no named reason says why"
        seen.update(explained)
    assert seen == {"table", "permit", "taiwan", "birth_range"}
    assert agreed[True] > 1000 and agreed[False] > 5000, agreed  # most of the set is a real comparison


def test_every_province_is_accepted_and_every_other_prefix_refused_naming_its_code():
    for n in range(100):
        prefix = f"{n:02d}"
        number = f"{prefix}0102" + "19900101002"
        number += id_check_char(number)
        if prefix in PROVINCE_CODES:
            assert check_id_number(number, today=TODAY).region_code == f"{prefix}0102"
        else:
            with pytest.raises(IdentityError) as caught:
                check_id_number(number, today=TODAY)
            assert f"地址码 {prefix}0102" in str(caught.value) and f"前两位 {prefix}" in str(caught.value)
    assert PROVINCE_CODES == {f"{n}" for n in [*range(11, 16), *range(21, 24), *range(31, 38), *range(41, 47),
                                               *range(50, 55), *range(61, 66), 81, 82, 83]}


@pytest.mark.parametrize("region, born", [("810000", "19900715"), ("820000", "19951220"), ("830000", "19850101"),
                                          ("830000", "20050101"), ("810000", "20050101")])
def test_residence_permits_of_hong_kong_macao_and_taiwan_residents_are_accepted(region, born):
    number = f"{region}{born}003"
    number += id_check_char(number)
    assert check_id_number(number, today=TODAY).region_code == region
    if region == "830000" or born < "1997":
        assert not stdnum_accepts(ric, number)  # departure "permit": no 83, and 81/82 only after the handover


def test_taiwan_province_code_71_is_refused_though_stdnum_accepts_it():
    number = "710000" + "19900101002"
    number += id_check_char(number)
    assert stdnum_accepts(ric, number)
    with pytest.raises(IdentityError, match="地址码 710000"):
        check_id_number(number, today=TODAY)


@pytest.mark.parametrize("region", ["331128", "110199", "659013"])
def test_a_county_missing_from_stdnums_table_is_accepted(region):
    number = f"{region}19900101002"
    number += id_check_char(number)
    assert check_id_number(number, today=TODAY).region_code == region
    assert not stdnum_accepts(ric, number)  # departure "table"


def test_birth_dates_outside_1900_to_today_are_refused_though_stdnum_accepts_them():
    for born in ("18991231", "20261121"):
        number = f"110101{born}002"
        number += id_check_char(number)
        assert stdnum_accepts(ric, number)
        assert not we_accept(check_id_number, number, today=TODAY)


# ----------------------------------------------------------------------------- 统一社会信用代码


def generated_credit_codes():
    """Valid codes for every first character (and letters second), and mutations of them."""
    rng = random.Random(SEED)
    codes = []
    for first in CREDIT_ALPHABET:
        for second in rng.sample("0123456789", 4) + rng.sample(CREDIT_ALPHABET[10:], 2):
            for _ in range(12):
                division = f"{rng.choice(sorted(PROVINCE_CODES))}{rng.randrange(10000):04d}"
                first17 = first + second + division + "".join(rng.choice(CREDIT_ALPHABET) for _ in range(9))
                valid = first17 + credit_check_char(first17)
                codes += [valid] + mutations(rng, valid, CREDIT_ALPHABET + "IOSVZ")
    examples = [code.replace(" ", "") for code in STDNUM_TEST_CODES + stdnum_examples(uscc)]
    return codes + examples


def test_credit_codes_agree_with_stdnum_but_for_letter_authorities():
    codes = generated_credit_codes()
    assert len(codes) > 10000
    seen, agreed = set(), {True: 0, False: 0}
    for code in codes:
        ours, theirs = we_accept(check_credit_code, code), stdnum_accepts(uscc, code)
        letter_authority = len(code) == 18 and not code[:2].isdigit()
        if ours == theirs:
            agreed[ours] += not letter_authority
            continue
        assert letter_authority and ours, f"{code}: we {'accept' if ours else 'refuse'}, stdnum does not"
        seen.add("letter_authority")
    assert seen == {"letter_authority"}
    assert agreed[True] > 400 and agreed[False] > 4000, agreed


@pytest.mark.parametrize("head", ["N1", "N2", "Y1", "A1", "91", "12", "51", "93"])
def test_letter_registration_authorities_are_accepted(head):
    first17 = head + "331128" + "MA2PBM9HX"
    code = first17 + credit_check_char(first17)
    assert check_credit_code(code.lower()) == code
    assert stdnum_accepts(uscc, code) == head.isdigit()  # departure "letter_authority" for N, Y, A


def test_stdnums_own_examples_get_stdnums_verdict():
    for code in STDNUM_TEST_CODES + stdnum_examples(uscc):
        assert we_accept(check_credit_code, code) == stdnum_accepts(uscc, code), code
    assert stdnum_examples(ric) and stdnum_examples(uscc)


# ----------------------------------------------------------------------------- as people type them

_FULL_WIDTH = {ord(ch): chr(ord(ch) + 0xFEE0) for ch in "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"}
_SEPARATORS = [" ", "\u3000", "-", "\uff0d", "\u2014", "\u2013", "\u2010", "\u2212", "\t"]


def typed_forms(rng, number):
    """``number`` as a Chinese input method, a card reader or a careless clerk might type it."""
    def spaced(text):
        cuts = sorted(rng.sample(range(1, len(text)), min(3, len(text) - 1)))
        parts = [text[a:b] for a, b in zip([0] + cuts, cuts + [len(text)])]
        return "".join(part + rng.choice(_SEPARATORS) for part in parts[:-1]) + parts[-1]

    return [number.translate(_FULL_WIDTH), number.lower().translate(_FULL_WIDTH), spaced(number),
            spaced(number.lower().translate(_FULL_WIDTH)), f"\u3000{number}\u200b "]


def test_typed_forms_get_the_verdict_of_their_ascii():
    rng = random.Random(SEED)
    for check, numbers in ((check_id_number, generated_id_numbers()[::7]),
                           (check_credit_code, generated_credit_codes()[::7])):
        kwargs = {"today": TODAY} if check is check_id_number else {}
        for number in numbers:
            try:
                expected = check(number, **kwargs)
            except IdentityError as exc:
                expected = str(exc)
            for typed in typed_forms(rng, number):
                try:
                    answer = check(typed, **kwargs)
                except IdentityError as exc:
                    answer = str(exc)
                assert answer == expected, (typed, number)
