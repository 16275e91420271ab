"""The heading, addressee and numbers of a letter, read by structure from captured pages.

Every letter here is written for the test (fictional places and people)."""

from __future__ import annotations

import pytest

from index.reading.clean import clean_text
from index.reading.letter import ReplyLetter, parse_text

BODY = (
    "您提出的关于加强农田水利建设的建议收悉，现答复如下：我局将继续加大投入，改善灌溉条件，保障粮食生产。\n"
    "感谢您对农业农村工作的关心和支持。\n"
)


def _parse(raw: str) -> ReplyLetter:
    cleaned = clean_text(raw)
    return parse_text(cleaned.text, source="t.txt", letter_id="t", fields=cleaned.page_fields,
                      breaks=cleaned.breaks)


def test_the_heading_after_navigation_junk_is_the_title() -> None:
    raw = (
        "网站首页 | 政务公开 | 互动交流\n"
        "首页 政务公开 建议提案\n"
        "您当前的位置：首页/政务公开/建议提案\n"
        "关于县十届人大二次会议第15号建议的答复\n"
        f"刘某某代表：\n{BODY}青禾县农业农村局\n2022年6月20日\n"
    )
    letter = _parse(raw)
    assert letter.title == "关于县十届人大二次会议第15号建议的答复"
    assert "位置" not in letter.text and "政务公开" not in letter.text


def test_a_heading_whose_second_line_starts_with_its_number_is_one_title() -> None:
    raw = (
        "关于青禾县十一届人大三次会议代表建议\n第0032号办理情况的答复（B）\n"
        f"李某某代表：\n{BODY}青禾县交通运输局\n2021年8月3日\n"
    )
    assert _parse(raw).title == "关于青禾县十一届人大三次会议代表建议第0032号办理情况的答复（B）"


def test_a_suggestion_title_is_not_joined_to_a_reply_heading_below_it() -> None:
    raw = (
        "关于加强农田水利建设的建议\n第7号建议办理情况的答复\n"
        f"李某某代表：\n{BODY}青禾县水利局\n2021年8月3日\n"
    )
    title = _parse(raw).title
    assert title == "关于加强农田水利建设的建议第7号建议办理情况的答复" or title == "第7号建议办理情况的答复"


@pytest.mark.parametrize(
    "line",
    ["- 名称：关于县政协九届三次会议第21号提案的答复", "信息名称：关于县政协九届三次会议第21号提案的答复",
     "标题：关于县政协九届三次会议第21号提案的答复", "標題：关于县政协九届三次会议第21号提案的答复"],
    ids=["list-name", "info-name", "title", "traditional-title"],
)
def test_a_field_name_in_front_of_the_heading_is_not_part_of_the_title(line: str) -> None:
    letter = _parse(f"{line}\n王某某委员：\n{BODY}白沙县水利局\n2020年9月1日\n")
    assert letter.title == "关于县政协九届三次会议第21号提案的答复"


def test_a_heading_ending_with_its_document_number_keeps_it_and_the_number_is_read() -> None:
    raw = (
        "关于省十三届人大一次会议第36号建议的答复[青交建〔2018〕101号]\n"
        f"蓝某某代表：\n{BODY}青禾省交通运输厅\n2018年7月11日\n"
    )
    letter = _parse(raw)
    assert letter.title == "关于省十三届人大一次会议第36号建议的答复[青交建〔2018〕101号]"
    assert letter.doc_number == "青交建〔2018〕101号"
    assert letter.number == "第36号"


@pytest.mark.parametrize(
    ("head", "doc_number"),
    [("粤卫案函〔2020〕208号", "粤卫案函〔2020〕208号"), ("湘交建议复〔2015〕147号 B类", "湘交建议复〔2015〕147号"),
     ("文号 永农函〔2024〕66号", "永农函〔2024〕66号"), ("潼民发【2024】275号", "潼民发【2024】275号"),
     ("建议字：〔2023〕8号", "〔2023〕8号")],
    ids=["plain", "with-category", "field-name", "square-brackets", "record-field"],
)
def test_the_document_number_is_read_without_its_field_name(head: str, doc_number: str) -> None:
    raw = f"关于县十届人大二次会议第15号建议的答复\n{head}\n刘某某代表：\n{BODY}青禾县农业农村局\n2022年6月20日\n"
    letter = _parse(raw)
    assert letter.doc_number == doc_number
    assert letter.number == "第15号"


@pytest.mark.parametrize("greeting", ["尊敬的刘某某代表：", "尊敬地刘某某代表：", "敬爱的刘某某代表："])
def test_an_honorific_is_never_kept_in_the_addressee(greeting: str) -> None:
    letter = _parse(f"关于县十届人大二次会议第15号建议的答复\n{greeting}\n{BODY}青禾县农业农村局\n2022年6月20日\n")
    assert letter.addressee == "刘某某代表"


def test_a_mirror_copy_with_spam_and_traditional_script_parses_and_spam_is_never_the_title() -> None:
    raw = (
        "久久国产 无码 在线观看一区二区\n伊人麻豆 婷婷 视频导航\n关于意见和建议的答复 久久 无码\n"
        "關(guān)於對縣十屆人大二次會議第9號建議的答復\n張某某代表：\n"
        "您提出的關於加強鄉鎮(zhèn)道路建設的建議收悉，現答復如下：我局將積極爭取項目資金，加快道路建設。\n"
        "感謝您對交通工作的關心和支持。\n永和縣交通運輸局\n2019年7月2日\n"
    )
    letter = _parse(raw)
    assert letter.title == "關於對縣十屆人大二次會議第9號建議的答復"
    assert (letter.issuer, letter.date, letter.number) == ("永和縣交通運輸局", "2019-07-02", "第9號")
    assert "(zhèn)" not in letter.text and "无码" not in letter.text


def test_a_letter_that_is_only_spam_has_no_title() -> None:
    letter = _parse("久久国产 无码 在线观看一区二区\n关于意见和建议的答复 久久 无码\n伊人麻豆 婷婷 视频导航\n")
    assert letter.title is None


def test_a_heading_wrapped_over_four_lines_under_its_unit_is_one_title() -> None:
    raw = (
        "青禾县水利局  2021-06-10 10:00  浏览次数：120\n青禾县水利局\n关于青禾县十届人大二次会议\n"
        f"第15号建议的\n答    复\n刘某某代表：\n{BODY}青禾县水利局\n2021年6月10日\n"
    )
    assert _parse(raw).title == "青禾县水利局关于青禾县十届人大二次会议第15号建议的答复"


def test_a_category_label_before_the_heading_and_a_site_name_above_it_are_not_the_title() -> None:
    labelled = _parse(f"【人大建议】关于县十届人大二次会议第16号建议的回复\n刘某某代表：\n{BODY}")
    assert labelled.title == "关于县十届人大二次会议第16号建议的回复"
    under_site = _parse(
        f"青禾县人民政府门户网站\n关于县政协十届二次会议第18号提案的答复\n王某某委员：\n{BODY}青禾县水利局\n2021年6月10日\n"
    )
    assert under_site.title == "关于县政协十届二次会议第18号提案的答复"
    assert "门户网站" not in under_site.text


def test_a_page_field_ends_where_the_next_field_starts() -> None:
    cleaned = clean_text(f"发布时间：2021-06-10  来源：青禾县水利局  作者：\n刘某某代表：\n{BODY}")
    assert cleaned.page_fields["来源"] == "青禾县水利局"


def test_a_page_whose_text_has_no_heading_takes_the_html_title_without_the_site_name() -> None:
    cleaned = clean_text(f"刘某某代表：\n{BODY}", page_title="关于县十届人大二次会议第15号建议的答复_青禾县人民政府")
    letter = parse_text(cleaned.text, source="t.html", letter_id="t", fields=cleaned.page_fields)
    assert letter.title == "关于县十届人大二次会议第15号建议的答复"


def test_a_section_label_that_ends_like_a_reply_is_not_preferred_to_the_heading() -> None:
    raw = f"全县人大代表建议和政协委员提案办理工作情况答复\n对县十届人大二次会议第15号建议的答复\n刘某某代表：\n{BODY}"
    assert _parse(raw).title == "对县十届人大二次会议第15号建议的答复"


def test_the_first_half_of_a_wrapped_heading_ending_in_daibiao_is_not_the_salutation() -> None:
    raw = f"对青禾省三届人大五次会议代表\n建议第2052号的答复\n李某某代表：\n{BODY}"
    letter = _parse(raw)
    assert letter.title == "对青禾省三届人大五次会议代表建议第2052号的答复"
    assert letter.addressee == "李某某代表"


def test_a_salutation_may_note_the_members_work_unit_and_drop_its_honorific_without_de() -> None:
    noted = _parse(f"对区政协九届四次会议第6号提案的复函\n苏某委员（区应急管理局）：\n{BODY}")
    assert noted.addressee == "苏某委员（区应急管理局）"
    plain = _parse(f"对区政协九届四次会议第6号提案的复函\n尊敬袁某某代表：\n{BODY}")
    assert plain.addressee == "袁某某代表"


def test_a_metadata_table_with_bracketed_keys_is_page_chrome_and_dates_the_letter() -> None:
    raw = (
        "[ 索引号 ] | 11500000MB1906/2025-00185 | [ 发文字号 ] | 青文旅函字〔2025〕283号 |\n"
        "[ 发布机构 ] | 市文化旅游委 | ||\n[ 成文日期 ] | 2025-05-13 | [ 发布日期 ] | 2025-07-09 |\n"
        f"关于市六届人大三次会议第1153号代表建议办理情况的答复函\n刘某代表：\n{BODY}"
    )
    letter = _parse(raw)
    assert letter.text.startswith("关于市六届人大三次会议第1153号")
    assert (letter.date, letter.doc_number) == ("2025-05-13", "青文旅函字〔2025〕283号")


def test_a_number_after_the_delegation_is_the_suggestion_number() -> None:
    letter = _parse(f"关于对市十六届人大三次会议青溪镇13号建议答复的函\n孙代表：\n{BODY}")
    assert letter.number == "13号"
