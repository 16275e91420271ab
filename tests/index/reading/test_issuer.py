"""Who answered: the signature, then the letterhead, then the heading, and a page field only as a
fallback — never a site's banner. Every letter here is written for the test (fictional)."""

from __future__ import annotations

from index.reading.clean import clean_text
from index.reading.issuer import complete_place
from index.reading.letter import ReplyLetter, parse_text

BODY = (
    "您提出的关于加快推进农村饮水安全工程的提案收悉，现答复如下：我局已完成北部片区供水管网改造，"
    "农村自来水普及率达到95%。\n感谢您对水利工作的关心和支持。\n"
)


def _parse(raw: str) -> ReplyLetter:
    cleaned = clean_text(raw)
    return parse_text(cleaned.text, source="t.txt", letter_id="t", fields=cleaned.page_fields,
                      breaks=cleaned.breaks)


def test_the_signature_names_the_issuer_even_with_a_seal_note() -> None:
    raw = f"关于县政协九届三次会议第21号提案的答复\n王某某委员：\n{BODY}白沙县水利局（盖章）\n2020年9月1日\n"
    assert _parse(raw).issuer == "白沙县水利局"


def test_a_letterhead_names_the_issuer_when_there_is_no_signature() -> None:
    raw = f"白沙县水利局文件\n白水函〔2020〕3号\n关于县政协九届三次会议第21号提案的答复\n王某某委员：\n{BODY}"
    assert _parse(raw).issuer == "白沙县水利局"


def test_the_heading_names_the_issuer_when_nothing_else_does() -> None:
    raw = f"白沙县水利局关于县政协九届三次会议第21号提案的答复\n王某某委员：\n{BODY}"
    assert _parse(raw).issuer == "白沙县水利局"


def test_a_site_banner_cut_off_by_page_chrome_is_not_the_issuer() -> None:
    raw = (
        "白沙县人民政府\n网站首页 | 政务公开 | 互动交流\n发布机构：白沙县水利局 发布日期：2021-05-06\n"
        f"关于县政协九届三次会议第21号提案的答复\n王某某委员：\n{BODY}"
    )
    assert _parse(raw).issuer == "白沙县水利局"


def test_a_page_field_naming_another_kind_of_unit_than_the_letter_speaks_as_is_not_the_issuer() -> None:
    raw = f"来源：白沙县人民政府\n关于县政协九届三次会议第21号提案的答复\n王某某委员：\n{BODY}"
    assert _parse(raw).issuer is None


def test_a_bare_signature_is_completed_with_the_place_the_letter_names() -> None:
    body = (
        "您提出的关于整治河道的建议收悉。现答复如下：\n"
        "清河是东坪县的母亲河，是东坪县主要河流之一，该段河道治理已纳入规划，将适时组织实施。\n"
        "感谢你对我县水利工作的关心和支持。\n"
    )
    signed = _parse(f"关于县十届人大一次会议第5号建议的答复\n陈某某代表：\n{body}水利局\n2020年9月1日\n")
    assert signed.issuer == "东坪县水利局"
    suffixed = _parse(f"对县十届人大一次会议第5号建议的答复（水利局）\n陈某某代表：\n{body}")
    assert suffixed.issuer == "东坪县水利局"


def test_a_bare_signature_takes_the_page_field_that_completes_it() -> None:
    raw = f"关于县政协九届三次会议第21号提案的答复\n王某某委员：\n{BODY}水利局\n2020年9月1日\n来源：东坪县水利局\n"
    assert _parse(raw).issuer == "东坪县水利局"


def test_a_place_is_added_only_when_the_letter_names_one_place_for_its_own_level() -> None:
    assert complete_place("水利局", "我县的东坪县和西坪县各有一座水库。") == "水利局"  # two counties, once each
    assert complete_place("水利局", "东坪县与东坪县相邻的河道") == "水利局"  # no level of its own
    assert complete_place("水利局", "我县东坪县河道，东坪县水库。") == "东坪县水利局"
    assert complete_place("县水利局", "我县东坪县河道，东坪县水库。") == "县水利局"  # the level is written
    assert complete_place("国家水利局", "我县东坪县河道，东坪县水库。") == "国家水利局"
    assert complete_place("交通运输局", "我市城市道路和农贸市场，市场管理。") == "交通运输局"  # 城市/市场 are no places


def test_a_record_field_names_the_unit_as_written_unless_the_capture_cut_it_off() -> None:
    head = "对县八届人大二次会议第72号建议答复\n高某代表：\n"
    written = f"{head}{BODY}承办单位：青禾满族自治县住房和城乡建设\n抄送：县人大人事委\n"
    assert _parse(written).issuer == "青禾满族自治县住房和城乡建设"
    cut = f"{head}{BODY}承办单位：青禾满族自治县退役"
    assert _parse(cut).issuer is None


def test_the_letters_own_contact_unit_names_the_issuer_when_nothing_else_does() -> None:
    head = "对市政协四届三次会议第11号提案的答复\n民革某某市委：\n"
    whole = f"{head}{BODY}联系单位：青禾市交通运输局 联系电话：0933-1234567\n"
    assert _parse(whole).issuer == "青禾市交通运输局"
    office = f"{head}{BODY}联系单位：青禾市交通运输局综合规划处\n"
    assert _parse(office).issuer is None
