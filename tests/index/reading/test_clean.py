"""Cleaning: page chrome out, every sentence of the letter in, punctuation consistent."""

from __future__ import annotations

import json
import re
import unicodedata
from functools import cache
from pathlib import Path

import pytest

from index.reading.clean import clean_text, fold_spaces, normalise_punctuation
from index.reading.load import load_file

ROOT = Path(__file__).resolve().parents[3]
CORPUS = ROOT.parent / "shared" / "corpus" / "letters"
LETTERS = sorted(CORPUS.glob("*.txt"))
PINYIN = re.compile(r"\([a-zāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜü]+\)")

CHROME = ("责任编辑", "扫一扫", "ICP备", "【字体", "字号", "上一篇", "下一篇", "上一条", "下一条",
          "当前位置", "所在位置", "无障碍", "长者", "浏览次数", "<!--", "Produced By", "Powered by",
          "版权所有", "网站标识码", "公网安备", "索引号", "发布机构", "辅助浏览", "轻松阅读", "相关新闻")


def _norm(text: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


@cache
def _cleaned(path: Path) -> str:
    loaded = load_file(path)
    return clean_text(loaded.text, loaded.page_title).text


def test_corpus_is_where_the_tests_expect_it() -> None:
    assert len(LETTERS) == 85, f"expected the shared corpus at {CORPUS}"


@pytest.mark.parametrize("path", LETTERS, ids=lambda p: p.stem)
def test_no_page_chrome_survives(path: Path) -> None:
    cleaned = _cleaned(path)
    for fragment in CHROME:
        assert fragment not in cleaned, f"{path.name}: {fragment!r} left in the cleaned text"
    for spam in ("无码", "毛片", "一区二区", "伊人"):
        assert spam not in cleaned


@pytest.mark.parametrize("path", LETTERS, ids=lambda p: p.stem)
def test_every_sentence_of_the_letter_is_kept(path: Path) -> None:
    """Each raw line that reads as prose (a full sentence) survives cleaning."""
    cleaned = _norm(_cleaned(path))
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = PINYIN.sub("", raw).strip()
        if len(line) < 30 or "。" not in line or "上一" in line or "下一条" in line:
            continue
        if any(spam in line for spam in ("无码", "毛片", "一区二区")):
            continue
        assert _norm(normalise_punctuation(fold_spaces(line))) in cleaned, f"{path.name}: lost {line[:40]!r}"


def test_every_gold_quote_of_the_evaluation_set_survives_cleaning() -> None:
    missing = []
    for line in (ROOT / "eval" / "corpus.jsonl").read_text(encoding="utf-8").splitlines():
        item = json.loads(line)
        for gold in item["gold"]:
            cleaned = _norm(_cleaned(CORPUS / f"{gold['letter']}.txt"))
            if _norm(gold["quote"]) not in cleaned:
                missing.append((item["id"], gold["quote"]))
    assert not missing


def test_neighbouring_letters_titles_are_dropped() -> None:
    cleaned = _cleaned(CORPUS / "054.txt")
    assert "第2号提案的函" not in cleaned and "第55号提案的函" not in cleaned
    assert "西安闸" in cleaned


def test_page_metadata_is_harvested_not_kept() -> None:
    loaded = load_file(CORPUS / "064.txt")
    result = clean_text(loaded.text)
    assert result.page_fields["成文日期"] == "2018-05-17"
    assert result.page_fields["文号"] == "静府督复〔2018〕1号"
    assert "索取号" not in result.text


def test_pinyin_artefacts_are_removed_from_traditional_mirror_copies() -> None:
    cleaned = _cleaned(CORPUS / "001.txt")
    assert "關于對縣十九屆人大二次會議第37號代表建議的答復" in cleaned
    assert "(guān)" not in cleaned


def test_punctuation_is_full_width_beside_chinese_only() -> None:
    assert normalise_punctuation("时间:2020-08-28 10:12") == "时间：2020-08-28 10:12"
    assert normalise_punctuation("资金2,222.35万元,用于") == "资金2,222.35万元，用于"
    assert normalise_punctuation("华为(山东)ICT学院") == "华为（山东）ICT学院"
    assert normalise_punctuation("AR/VR (beta)") == "AR/VR (beta)"


def test_spaces_fold_inside_chinese_but_separate_fields() -> None:
    assert fold_spaces("邹振儒 代表:") == "邹振儒代表:"
    assert fold_spaces("联系人:范宝欣   联系电话:13519502465") == "联系人:范宝欣 联系电话:13519502465"
    assert fold_spaces("2019年 10月14日") == "2019年10月14日"


def test_html_sample_loses_its_page_but_keeps_its_letter() -> None:
    loaded = load_file(ROOT / "samples" / "letters" / "qh-zj-2022-027.html")
    cleaned = clean_text(loaded.text, loaded.page_title).text
    for fragment in ("上一篇", "下一篇", "ICP备", "扫一扫", "无障碍", "责任编辑", "【字体"):
        assert fragment not in cleaned
    assert cleaned.splitlines()[0].startswith("【示例（虚构）") or "关于市十五届人大二次会议第27号建议的答复" in cleaned


def test_words_that_name_page_tools_do_not_drop_sentences_about_the_same_things() -> None:
    sentence = "我局将加快推进无障碍设施建设和适老化改造，为长者提供便利，欢迎各位代表监督。"
    raw = f"无障碍 | 长者版\n张某某代表：\n{sentence}\n责任编辑：王某"
    cleaned = clean_text(raw).text
    assert sentence in cleaned
    assert "责任编辑" not in cleaned and "长者版" not in cleaned


def test_metadata_lines_behind_a_bullet_or_without_colons_are_dropped() -> None:
    raw = (
        "- 索引号：430S00029/2016-80118\n"
        "- 发布机构：某某县农业农村局\n"
        "索引号 001008003/2024-31 主题分类 农业、畜牧业、渔业\n"
        "索 引 号 640323004/2022-00062 发文时间 2021-10-22\n"
        "关于县十届人大二次会议第9号建议的答复\n"
        "张某某代表：\n"
        "您提出的关于加强农资供应的建议收悉，现答复如下：我局将继续做好农资储备工作。\n"
        "日期 2021-05-01 地点 县政府三楼会议室\n"
    )
    result = clean_text(raw)
    assert "索引号" not in result.text and "发布机构" not in result.text
    assert result.text.startswith("关于县十届人大二次会议第9号建议的答复")
    assert "日期 2021-05-01 地点县政府三楼会议室" in result.text  # one key and no other: not a table row
    assert result.page_fields["发布机构"] == "某某县农业农村局"
    assert result.page_fields["主题分类"] == "农业、畜牧业、渔业"


def test_breadcrumbs_menus_and_page_paths_are_dropped_before_the_letter() -> None:
    raw = (
        "您当前的位置：首页/政务公开/建议提案/人大代表建议\n"
        "首页/ 政府信息公开 / 建议提案 / 正文\n"
        "当前所在的位置：首页\n"
        " > 政府信息公开 > 人大建议\n"
        "首页 政务公开 互动交流 办事服务\n"
        "网站首页｜机构概况｜政务公开｜互动交流\n"
        "• 网上办事 政务公开 互动交流\n"
        "| 首页 | 信息公开 | 建议提案 |\n"
        "今天是：\n"
        "12综合信息/col/col1234/index.html政务公开/col/col1235/index.html\n"
        "关于县十届人大二次会议第15号建议的答复\n"
        "刘某某代表：\n"
        "您提出的关于加强农田水利建设的建议收悉，现答复如下：我局将继续加大投入，改善灌溉条件。\n"
        "感谢您对农业农村工作的关心和支持。\n"
        "某某县农业农村局\n"
    )
    cleaned = clean_text(raw).text
    assert cleaned.startswith("关于县十届人大二次会议第15号建议的答复\n"), cleaned
    assert cleaned.endswith("某某县农业农村局")


def test_a_sentence_with_slashes_or_short_words_is_not_taken_for_navigation() -> None:
    sentence = "我局将统筹种植/养殖/加工三类项目，逐步完善产业链条，带动农户增收。"
    raw = (
        f"关于县十届人大二次会议第3号建议的答复\n某某代表：\n{sentence}\n此致 敬礼\n"
        "某某县水利局 某某县财政局 某某县农业农村局\n"
    )
    cleaned = clean_text(raw).text
    assert sentence in cleaned
    assert "某某县水利局" in cleaned


@pytest.mark.parametrize(
    "raw",
    ["鄉鎮(zhèn)道路", "鄉鎮（zhèn）道路", "鄉鎮( zhèn )道路", "鄉鎮(zhe\u0300n)道路", "關(ɡuān)於鄉鎮道路"],
    ids=["ascii", "full-width", "spaced", "combining-tone", "pinyin-font-g"],
)
def test_pinyin_artefacts_of_mirror_sites_are_removed_in_every_form(raw: str) -> None:
    cleaned = clean_text(f"张某某代表：\n您提出的关于加强{raw}建设的建议收悉，现答复如下：我局将加快建设。").text
    assert "(" not in cleaned and "（" not in cleaned and "zh" not in cleaned and "ɡ" not in cleaned
    assert "鄉鎮道路" in cleaned


def test_a_bracketed_note_in_latin_letters_is_not_a_pinyin_artefact() -> None:
    cleaned = clean_text("关于第5号建议办理情况的答复(B)\n张某某代表：\n华为(ICT)学院已建成，现答复如下。").text
    assert "答复（B）" in cleaned and "华为（ICT）学院" in cleaned


def test_what_the_page_says_about_the_letter_is_kept_beside_it_and_the_rest_is_not() -> None:
    raw = (
        "索引号：| 001/2024-31 | 主题分类：| 农业\n"
        "发布机构：\n某某县农业农村局\n"
        "名　　称：| 关于县十届人大二次会议第9号建议的答复 | 浏览次数：| 1326\n"
        "来源：m.example.cn\n"
        "关于县十届人大二次会议第9号建议的答复\n"
        "张某某代表：\n"
        "您提出的关于加强农资供应的建议收悉，现答复如下：我局将继续做好农资储备工作。\n"
        "主办单位：某某县人民政府 版权所有\n"
    )
    result = clean_text(raw)
    assert result.page_lines == [
        "索引号：001/2024-31　主题分类：农业",
        "发布机构：某某县农业农村局",  # the value stood on the next line
        "名称：关于县十届人大二次会议第9号建议的答复",  # the counter is left out
    ], "a mirror's web address and the site's 主办单位 say nothing about the letter"
    assert "发布机构" not in result.text and "索引号" not in result.text
