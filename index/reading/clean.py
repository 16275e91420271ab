"""Web-page boilerplate out, the letter's own sentences in, punctuation made consistent.

Letters arrive as captured web pages: navigation, font/print/share bars, 索引号/发布机构
tables, 上一篇/下一篇 links carrying *other* letters' titles, ICP lines, accessibility
toolbars, spam headers from mirror sites. The cleaned text this module returns is the
reference every span in the index points into, so it keeps every sentence of the letter and
nothing of the page. Page metadata is not thrown away blindly: `名称`, `发布机构`, `发布日期`
and friends are harvested into `page_fields` as fallbacks for the letter's own fields (which
lines are metadata, and what they say, is `index.reading.page_meta`).

Decisions are per line: a line is dropped when it matches a boilerplate pattern anywhere in
the text, or when it sits before the letter starts (header zone) or after it ends (footer
zone) and looks like navigation rather than letter content.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from index.reading.page_meta import harvest_page_meta, is_page_meta, tidy_page_line, unbracket_keys
from index.reading.units import LETTERHEAD_WORDS, UNIT_SUFFIXES
from index.vocab import alternation, load_vocabulary

CJK = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_CJK_CHAR = re.compile(f"[{CJK}]")
_CJK_PUNCT = "，。；：、！？“”‘’《》（）【】〔〕…—"
_SENTENCE_PUNCT = re.compile(r"[，。；！？、“”《》：]")

_TONE_VOWELS = "āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜ"
# Mirror sites' script converters write a reading after some characters: `關(guān)於`, also with
# full-width brackets, a space inside, or the pinyin-font letters ɑ/ɡ. A syllable counts only
# with a tone mark, so `(B)`, `(de)`-like Latin in a letter is never taken for one.
_PINYIN_LETTERS = f"a-zü{_TONE_VOWELS}ɑɡ"
PINYIN_ARTEFACT = re.compile(
    f"(?<=[{CJK}])[(（] ?(?=[a-züɑɡ]*[{_TONE_VOWELS}])[{_PINYIN_LETTERS}]{{1,7}} ?[)）]"
)
# A tone mark written as a combining character after its vowel (`zhe\u0300n`) is composed first.
_COMBINING_TONE = re.compile("[a-zü][\u0300\u0301\u0304\u030c\u0308]+")
_ZERO_WIDTH = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad]")
_SPACES = re.compile("[ \t\u00a0\u2002-\u200a\u202f\u205f\u3000]+")
_HTML_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_LAYOUT_TAG = re.compile(
    r"</?(?:wbr|strike|span|font|o:p|p|div|br|b|i|u|em|strong|center|section|article|tbody"
    r"|table|tr|td|th|ul|ol|li|html|body)\b[^<>]{0,200}>",
    re.IGNORECASE,
)
_FULLWIDTH_ALNUM = re.compile("[０-９Ａ-Ｚａ-ｚ．％]")

# The word lists (and what each one means) are in clean.toml.
_VOCAB = load_vocabulary(Path(__file__).with_name("clean.toml"))
_SPAM_WORDS = _VOCAB["spam.words"]
_BOILERPLATE_FRAGMENTS = _VOCAB["boilerplate.fragments"]
_BOILERPLATE_PREFIXES = _VOCAB["boilerplate.prefixes"]
_BULLET = re.compile(r"^(?:[•·▪●◆■]|\d{1,2}\.(?=\s*(?:当前位置|首页|>)))\s*")
_TAIL_MARKERS = _VOCAB["neighbours.tail_markers"]
_NEIGHBOUR_LINKS = _VOCAB["neighbours.links"]
_NAV_WORDS = frozenset(_VOCAB["nav.words"])

RECORD_KEYS = _VOCAB["record.keys"]
_BREADCRUMB = re.compile(
    r"\S\s*(?:>>?|»|→|＞)\s*\S.*(?:>>?|»|→|＞)|^(?:" + alternation(_VOCAB["nav.breadcrumb_starts"]) + ")"
    # `您当前的位置：…`, `当前所在的位置：…`: where the reader is on the site.
    + r"|^(?:(?:您|你)(?:当前|现在|目前)?(?:所在|所处)?的?|(?:当前|现在|目前)(?:所在|所处)?的?"
    r"|(?:所在|所处)的?)(?:位置|栏目)\s*[:：]"
    # The rest of a breadcrumb wrapped onto its own line (`> 政府信息公开 > …`).
    + r"|^(?:>>?|»|→|＞)"
)
# `首页/政务公开/建议提案`: page sections joined by slashes, and nothing that reads as a sentence.
_SLASH_PATH = re.compile(f"^(?:首页\\s*/|[^，。；！？]*[{CJK}]\\s*/\\s*[{CJK}][^，。；！？]*[{CJK}]\\s*/\\s*[{CJK}])")
# A page's address or a path of its folders (`…/col/col1676887/index.html`).
_PAGE_PATH = re.compile(r"\S*/\S*\.(?:s?html?|jsp|aspx?|php)\b|/col/col\d+", re.I)
_MENU_SPLIT = re.compile(r"[\s|｜丨]+")
_FOOTER_CREDIT = re.compile(f"^[{CJK}]{{2,30}}(?:{alternation(_VOCAB['nav.footer_credits'])})$")
_BARE_DATE = re.compile(r"^\d{4}[-年./]\d{1,2}[-月./]\d{1,2}日?(?:\s*\d{1,2}:\d{2}(?::\d{2})?)?$")
_WEEKDAY_DATE = re.compile(r"^\d{4}年\d{1,2}月\d{1,2}日\s*星期[一二三四五六日天]$")
_URL = re.compile(r"(?:https?://|www\.)\S+|\b[\w-]+\.(?:gov\.cn|com|cn|net|org)\b", re.I)
_SENTENCE_OR_DIGIT = re.compile(r"[，。；：:！？、“”《》,;\d]")
_DATE_ANY = re.compile(
    r"\d{4}\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日|\d{4}-\d{1,2}-\d{1,2}|^\d{7,8}$"
    r"|[二〇○零一三四五六七八九]{4}年[一二三四五六七八九十]{1,2}月[一二三四五六七八九十]{1,3}日"
)
UNIT_SUFFIX = re.compile(f"[{CJK}）)]{{2,40}}{UNIT_SUFFIXES}$")
_LETTERHEAD = re.compile(f"^[{CJK}（）()]{{2,40}}{UNIT_SUFFIXES}{LETTERHEAD_WORDS}$")
# `某某县人民政府门户网站`: a site's name ends like a unit (…站) but is page chrome.
_SITE_NAME = re.compile(f"(?:{alternation(_VOCAB['nav.site_endings'])})$")
_TITLE_WORDS = re.compile(alternation(_VOCAB["letter_line.title_words"]))
_TITLE_SHAPE = re.compile(alternation(_VOCAB["letter_line.title_shape"]))
_TITLE_END = re.compile(f"(?:{alternation(_VOCAB['letter_line.title_words'])})$")
_DOC_NUMBER = re.compile(r"〔\d{4}〕|\[\d{4}\]|\(\d{4}\)|（\d{4}）")
_CATEGORY_LINE = re.compile(r"^[（(]?[ABC][)）]?(?:类)?$|[ABC]类|类\s*别")
_CONTACT_LINE = re.compile(alternation(_VOCAB["letter_line.contact"]))
_FICTION_MARK = "示例（虚构）"


@dataclass
class CleanedText:
    text: str
    page_fields: dict[str, str] = field(default_factory=dict)
    """Metadata harvested from page chrome (名称, 发布机构, 发布日期, 来源, 文号, …)."""
    dropped: list[str] = field(default_factory=list)
    """The lines removed, for inspection and tests."""
    page_lines: list[str] = field(default_factory=list)
    """The metadata lines worth quoting (`page_meta.tidy_page_line`), in page order, a value that
    stood on the next line joined to its key: not part of the letter's text, kept beside it."""
    breaks: set[int] = field(default_factory=set)
    """Indices of kept lines that had removed page chrome right before them: two lines that
    look like one heading (an issuer above a title) only belong together without a break."""


def clean_text(raw: str, page_title: str | None = None) -> CleanedText:
    fields: dict[str, str] = {}
    if page_title:
        fields["页面标题"] = fold_spaces(page_title)
    text = _normalise_characters(raw)
    raw_lines = text.split("\n")
    lines = [normalise_punctuation(fold_spaces(line)) for line in raw_lines]
    lines = [_BULLET.sub("", _strip_table_pipes(unbracket_keys(line))) for line in lines]
    # Folding joins `首页 政务公开 建议提案` into one word, so menus are told apart before it.
    menus = {line for raw_line, line in zip(raw_lines, lines, strict=True) if _is_menu(raw_line)}
    lines = _split_glued(lines)
    page_lines: list[str] = []
    kept, dropped, breaks = _drop_boilerplate(lines, fields, menus, page_lines)
    unique = list(dict.fromkeys(page_lines))  # a page that shows its table twice
    return CleanedText("\n".join(kept), fields, dropped, unique, breaks)


def _normalise_characters(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _ZERO_WIDTH.sub("", text)
    text = _HTML_COMMENT.sub("", text)
    text = _LAYOUT_TAG.sub("", text)
    text = text.replace("&nbsp;", " ").replace("&emsp;", " ").replace("&ensp;", " ")
    text = _COMBINING_TONE.sub(lambda m: unicodedata.normalize("NFC", m.group()), text)
    text = PINYIN_ARTEFACT.sub("", text)
    return _FULLWIDTH_ALNUM.sub(lambda m: unicodedata.normalize("NFKC", m.group()), text)


def fold_spaces(line: str) -> str:
    """One space at most, and none inside Chinese text (`答    复` → `答复` later, `邹振儒 代表`)."""
    cjkish = f"[{CJK}{_CJK_PUNCT}：；，]"
    segments = re.split(r"[ \t\u00a0\u2002-\u200a\u202f\u205f\u3000]{2,}", line.strip())
    segments = [_SPACES.sub(" ", seg).strip() for seg in segments]
    segments = [re.sub(f"(?<={cjkish}) (?={cjkish})", "", seg) for seg in segments if seg]
    line = " ".join(segments)
    line = re.sub(r"(?<=[年月]) (?=\d)|(?<=\d) (?=[年月日号])", "", line)
    line = re.sub(r"(?<=[:：]) (?=\S)", "", line)
    return line


def _strip_table_pipes(line: str) -> str:
    return line.strip("| ").strip() if line.startswith("|") or line.endswith("|") else line


_SALUTATION_HEAD = re.compile(
    r"^((?:问题答复|答复内容)[:：])?((?:尊敬的)?[^，。；：:\s]{1,40}(?:代表|委员|代表们|委员们|同志|委員|代表們)[:：])(?=\s*[您你贵])"
)
_GLUED_SCAN = re.compile(r"\s*扫一扫.*$")
_GLUED_SOURCE = re.compile(
    r"(?<=[日])\s*(?:(?:信息|文章|发布|發布)?[来來]源[:：].*|分享.*|打印.*|【打印.*|浏览.*|点击.*)$"
)


def _split_glued(lines: list[str]) -> list[str]:
    """Split salutations glued to the body and strip page junk glued after a signature date."""
    out: list[str] = []
    for line in lines:
        line = _GLUED_SOURCE.sub("", _GLUED_SCAN.sub("", line))
        m = _SALUTATION_HEAD.match(line)
        if m and len(line) > m.end() + 4:
            if m.group(1):
                out.append(m.group(1))
            out.append(m.group(2))
            out.append(line[m.end():].strip())
        else:
            out.append(line)
    return out


def is_spam(line: str) -> bool:
    return sum(word in line for word in _SPAM_WORDS) >= 2


def _is_boilerplate(line: str) -> bool:
    compact = line.replace(" ", "")
    if not compact or not re.search(rf"[{CJK}A-Za-z0-9]", compact):
        return True
    if is_spam(line) or _WEEKDAY_DATE.match(line):
        return True
    if any(fragment in line for fragment in _BOILERPLATE_FRAGMENTS) and (
        len(compact) < 100 or "。" not in line
    ):
        return True
    if compact.startswith(_BOILERPLATE_PREFIXES) and len(compact) < 60:
        return True
    if compact.startswith(_NEIGHBOUR_LINKS):
        return True
    if _BREADCRUMB.search(line) and len(compact) <= 100 and "。" not in line:
        return True
    if _SLASH_PATH.match(line) and len(compact) <= 100 and not re.search("[，。；！？]", line):
        return True
    tokens = line.split(" ")
    return all(token in _NAV_WORDS for token in tokens)


def is_site_name(line: str) -> bool:
    return bool(_SITE_NAME.search(line.replace(" ", "")))


def is_title_like(line: str) -> bool:
    return (
        bool(_TITLE_WORDS.search(line) and _TITLE_SHAPE.search(line)) and 4 <= len(line) <= 120
    )


def _is_letter_line(line: str) -> bool:
    """Lines that belong to a letter even though they carry no sentence punctuation."""
    compact = line.replace(" ", "")
    return bool(
        _FICTION_MARK in line
        or (_SENTENCE_PUNCT.search(line) and len(compact) >= 4)
        or re.fullmatch(r"(?:的|提案的|建议的)?(?:答复|答覆|答復|复函|復函|答复函|的函|答复的函)", compact)
        or _DATE_ANY.search(line)
        or (UNIT_SUFFIX.search(compact) and not is_site_name(compact))
        or _LETTERHEAD.match(compact)
        or is_title_like(compact)
        or _DOC_NUMBER.search(line)
        or _CATEGORY_LINE.search(compact)
        or _CONTACT_LINE.search(compact)
        or compact.startswith(RECORD_KEYS)
        or re.fullmatch(r"[ABC]|公开|同意公开|不公开", compact)
        or re.search(r"(代表|委员|委員|代表們|代表们|委员们|同志)$", compact)
        or _is_salutation(line)
    )


def _is_menu(raw_line: str) -> bool:
    """A row of short link labels (`首页 政务公开 互动交流`, `网站首页 | 建议提案 | …`): at least
    three, none longer than a label, no sentence and no number, and not a row of unit names (a
    joint signature)."""
    tokens = [t for t in _MENU_SPLIT.split(_BULLET.sub("", raw_line.strip())) if t]
    if len(tokens) < 3 or _SENTENCE_OR_DIGIT.search(raw_line):
        return False
    if any(len(t) > 6 or not _CJK_CHAR.search(t) for t in tokens) or _is_spaced_title("".join(tokens)):
        return False
    return sum(bool(UNIT_SUFFIX.search(t)) for t in tokens) * 2 < len(tokens)


def _is_spaced_title(joined: str) -> bool:
    """A heading captured with spaces between its words (`关于 加快 农田 建设的 建议`)."""
    return bool(re.match("(?:关于|關於|關于|对|對)", joined) and _TITLE_END.search(joined))


def _looks_like_nav(line: str) -> bool:
    compact = line.replace(" ", "")
    if _URL.search(line) or _PAGE_PATH.search(line):
        return True
    if _is_letter_line(line):
        return False
    tokens = [t for t in line.split(" ") if t]
    return len(tokens) >= 3 or len(compact) < 40


def _drop_boilerplate(
    lines: list[str], fields: dict[str, str], menus: set[str], page_lines: list[str]
) -> tuple[list[str], list[str], set[int]]:
    """Kept lines, dropped lines, and the kept lines that had page chrome cut out just before
    them; the citable metadata lines are added to `page_lines`."""
    kept: list[tuple[int, str]] = []
    dropped: list[str] = []
    pending_key: str | None = None
    for n, line in enumerate(lines):
        if not line:
            continue
        compact = line.replace(" ", "")
        if compact.startswith(_TAIL_MARKERS) and _after_letter([k for _, k in kept]):
            dropped.extend(rest for rest in lines[n:] if rest)
            break
        if (
            pending_key
            and len(line) <= 30
            and not _SENTENCE_PUNCT.search(line)
            and not is_page_meta(line)
            and not is_title_like(line)
        ):
            fields.setdefault(pending_key, line)
            joined = tidy_page_line(f"{dropped[-1]}：{line}")  # `发布机构：` above its value
            if page_lines and page_lines[-1] == tidy_page_line(dropped[-1]):
                page_lines[-1] = joined
            elif joined:
                page_lines.append(joined)
            pending_key = None
            dropped.append(line)
            continue
        pending_key = None
        if is_page_meta(line):
            pending_key = harvest_page_meta(line, fields)
            if citable := tidy_page_line(line):
                page_lines.append(citable)
            dropped.append(line)
        elif _is_boilerplate(line) or _FOOTER_CREDIT.match(compact):
            harvest_page_meta(line, fields)
            dropped.append(line)
        else:
            kept.append((n, line))
    texts = [line for _, line in kept]
    # Header zone: before the salutation or the first real paragraph.
    body_start = next(
        (i for i, line in enumerate(texts) if _is_salutation(line) or _is_paragraph(line)),
        len(texts),
    )
    # Footer zone: after the last line that belongs to a letter.
    last = max((i for i, line in enumerate(texts) if _is_letter_line(line)), default=-1)
    out: list[tuple[int, str]] = []
    for i, (n, line) in enumerate(kept):
        in_zone = i < body_start or i > last
        follows_record_key = i > 0 and texts[i - 1].replace(" ", "").rstrip("：:") in RECORD_KEYS
        if i < body_start and not follows_record_key and _BARE_DATE.match(line):
            harvest_page_meta(line, fields)
            dropped.append(line)
        elif in_zone and not follows_record_key and (line in menus or _looks_like_nav(line)):
            dropped.append(line)
        else:
            out.append((n, line))
    breaks = {
        i for i in range(1, len(out))
        if any(lines[k] for k in range(out[i - 1][0] + 1, out[i][0]))
    }
    return [line for _, line in out], dropped, breaks


def _after_letter(kept: list[str]) -> bool:
    """True once the text so far holds a letter body (so a 上一篇 list is trailing chrome)."""
    return any(_is_paragraph(line) for line in kept)


def _is_salutation(line: str) -> bool:
    compact = line.replace(" ", "")
    return bool(
        re.fullmatch(r"(?:尊敬的)?[^，。；]{1,60}?(?:您好|你好)?[:：]", compact)
        and not compact.startswith(RECORD_KEYS)
        and (re.search(r"(代表|委员|委員|同志|先生|女士|代表們|委员们|代表们)(?:您好|你好)?[:：]$", compact)
             or UNIT_SUFFIX.search(compact[:-1]))
    )


def _is_paragraph(line: str) -> bool:
    return len(line) >= 40 and bool(re.search("[。，,]", line)) and not is_page_meta(line)


_ASCII_TO_FULL = {",": "，", ";": "；", ":": "：", "?": "？", "!": "！"}
_CJK_CONTEXT = re.compile(f"[{CJK}{_CJK_PUNCT}]")


def normalise_punctuation(line: str) -> str:
    """Half-width `,;:?!()` beside Chinese text become full-width; `10:12`, `2,222.35` stay."""
    chars = list(line)
    n = len(chars)
    for i, ch in enumerate(chars):
        if ch in _ASCII_TO_FULL:
            prev = chars[i - 1] if i > 0 else ""
            nxt = chars[i + 1] if i + 1 < n else ""
            if prev.isdigit() and nxt.isdigit():
                continue
            if _CJK_CONTEXT.match(prev or " ") or _CJK_CONTEXT.match(nxt or " ") or (
                not nxt and ch in ":："
            ):
                chars[i] = _ASCII_TO_FULL[ch]
    line = "".join(chars)
    return _full_width_parens(line)


def _full_width_parens(line: str) -> str:
    chars = list(line)
    stack: list[int] = []
    for i, ch in enumerate(chars):
        if ch == "(":
            stack.append(i)
        elif ch == ")" and stack:
            j = stack.pop()
            inner = "".join(chars[j + 1 : i])
            before = chars[j - 1] if j > 0 else ""
            if _CJK_CHAR.search(inner) or _CJK_CHAR.match(before or " "):
                chars[j], chars[i] = "（", "）"
    return "".join(chars)
