"""Curated reference data (knowledge/data/reference.yml) and the rules that derive short names."""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from knowledge.bulletin.text import fold

REFERENCE_FILE = Path(__file__).with_name("data") / "reference.yml"
GUIDANCE_FILE = Path(__file__).with_name("data") / "guidance.yml"

# Names too generic to stand for one hospital, whatever the rules derive.
GENERIC = {"医院", "人民医院", "人医", "中心医院", "中医医院", "市医院", "省医院", "区医院", "卫生服务中心"}
_PREFIXES = ("中国人民解放军", "南京市", "江苏省", "南京", "江苏")
_CATEGORIES = (
    ("社区卫生服务中心", "社区卫生服务中心"),
    ("中西医结合", "中西医结合"),
    ("妇幼保健", "妇幼保健"),
    ("儿童医院", "儿童"),
    ("口腔", "口腔"),
    ("肿瘤", "肿瘤"),
    ("眼科", "眼科"),
    ("脑科", "精神"),
    ("精神", "精神"),
    ("胸科", "胸科"),
    ("骨科", "骨科"),
    ("肾科", "肾科"),
    ("整形", "整形"),
    ("耳鼻喉", "耳鼻喉"),
    ("皮肤病", "皮肤病"),
    ("职业病", "职业病防治"),
    ("中医", "中医"),
    ("诊所", "诊所"),
)


@dataclass(frozen=True)
class Entry:
    name: str
    aliases: tuple[str, ...] = ()
    mode: str | None = None  # channels only


@dataclass(frozen=True)
class Reference:
    districts: tuple[Entry, ...]
    hospitals: tuple[Entry, ...]
    channels: tuple[Entry, ...]
    platforms: tuple[Entry, ...]
    organisations: tuple[Entry, ...]
    hotlines: tuple[Entry, ...]
    cities: tuple[Entry, ...] = ()
    measure_aliases: tuple[Entry, ...] = ()
    # The statistics resolver's words (knowledge/resolve.py): measures printed under other names in
    # other periods, measures never printed, places the bulletins hold no figures of.
    measure_families: tuple[tuple[str, ...], ...] = ()
    unheld_measures: tuple[str, ...] = ()
    places: tuple[str, ...] = ()
    # Ordinary words that hold a short name (全市一共 holds 市一): never a name.
    ordinary_words: tuple[str, ...] = ()

    def kinds(self) -> dict[str, tuple[Entry, ...]]:
        return {
            "district": self.districts,
            "hospital": self.hospitals,
            "channel": self.channels,
            "platform": self.platforms,
            "organisation": self.organisations,
            "hotline": self.hotlines,
            "city": self.cities,
        }


def _entries(items) -> tuple[Entry, ...]:
    out = []
    for item in items or ():
        if isinstance(item, str):
            out.append(Entry(item))
        else:
            out.append(Entry(str(item["name"]), tuple(str(a) for a in item.get("aliases") or ()), item.get("mode")))
    return tuple(out)


@lru_cache(maxsize=4)
def load_reference(path: Path = REFERENCE_FILE) -> Reference:
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    return Reference(
        districts=_entries(raw.get("districts")),
        hospitals=_entries(raw.get("hospitals")),
        channels=_entries(raw.get("channels")),
        platforms=_entries(raw.get("platforms")),
        organisations=_entries(raw.get("organisations")),
        hotlines=_entries(raw.get("hotlines")),
        cities=_entries(raw.get("cities")),
        measure_aliases=tuple(Entry(str(k), tuple(str(a) for a in v))
                              for k, v in (raw.get("measure_aliases") or {}).items()),
        measure_families=tuple(tuple(str(m) for m in family) for family in raw.get("measure_families") or ()),
        unheld_measures=tuple(str(w) for w in raw.get("unheld_measures") or ()),
        places=tuple(str(p) for p in raw.get("places") or ()),
        ordinary_words=tuple(str(w) for w in raw.get("ordinary_words") or ()),
    )


def hospital_category(name: str) -> str:
    for marker, category in _CATEGORIES:
        if marker in name:
            return category
    return "综合"


def district_in_name(name: str, districts: list[str]) -> str | None:
    """The district a hospital's own name states (南京市六合区人民医院, 南京市高淳人民医院).

    Only names that say it: 南京鼓楼医院 is named after a place, not located by its name.
    """
    for district in districts:
        if district in name:
            return district
        bare = district.removesuffix("区")
        if bare not in ("鼓楼", "江北新") and (
            name.startswith(("南京市" + bare, "南京" + bare)) or f"({bare})" in fold(name)
        ):
            return district
    return None


def derive_short_names(name: str, districts: list[str] | None = None) -> set[str]:
    """The short names residents use, derived from a full name by the rules of ../shared/domain.md."""
    bare_districts = [d.removesuffix("区") for d in (districts or ())]
    seen: set[str] = set()
    frontier = [name]
    while frontier:
        current = frontier.pop()
        for variant in _variants(current, bare_districts):
            if variant not in seen and variant != name:
                seen.add(variant)
                frontier.append(variant)
    return {v for v in seen if len(v) >= 2 and v not in GENERIC and not _BARE_ORDINAL.fullmatch(v)
            and not _bare_stem(v)}


# A category's first word with no place before it names no hospital (中医, 南京中医: 南京中医药大学);
# 省中医 and 市妇幼 do.
_STEMS = ("人民", "中医", "妇幼", "社区", "中西医结合", "中西", "儿童")


def _bare_stem(name: str) -> bool:
    rest = name
    for prefix in ("南京市", "江苏省", "南京", "江苏"):
        rest = rest.removeprefix(prefix)
    return rest in _STEMS and not name.startswith(("省", "市"))


# 第一医院 alone names no hospital in particular; 市一医院 does.
_BARE_ORDINAL = re.compile(r"第[一二三四五六七八九十]+(附属)?医院")
# Dropping 南京 from 南京医科大学… leaves a name nobody uses.
_NOT_A_NAME_START = ("市", "省", "医科大学", "大学", "理工大学")


def _variants(name: str, bare_districts: list[str]):
    for prefix in _PREFIXES:
        if name.startswith(prefix) and len(name) > len(prefix) + 1:
            rest = name[len(prefix):]
            if not rest.startswith(_NOT_A_NAME_START):
                yield rest
            if prefix == "江苏省":
                yield "省" + rest
                yield "江苏" + rest  # 江苏中医院
            if prefix == "南京市" and not any(rest.startswith(b) for b in bare_districts):
                yield "市" + rest
            if prefix == "南京市" and not rest.startswith(_NOT_A_NAME_START):
                yield "南京" + rest  # 南京第二医院, 南京胸科医院
    yield from _replace(name, "南京医科大学附属", "南医大")
    yield from _replace(name, "南京医科大学", "南医大")
    yield from _replace(name, "南京医科大学", "南京医科")
    yield from _replace(name, "南京医科大学", "医科大")
    yield from _replace(name, "东南大学附属", "")
    for ordinal, short in (("第一附属医院", "一附院"), ("第二附属医院", "二附院"), ("第四附属医院", "四附院")):
        yield from _replace(name, ordinal, short)
    yield from _replace(name, "人民医院", "人医")
    # What agents type: the category's first word for the whole (高淳人民, 六合中医, 栖霞妇幼, 宝塔桥社区),
    # after a place of two characters or more, or 省/市.
    for suffix, short in (("人民医院", "人民"), ("中医医院", "中医"), ("中医院", "中医"), ("妇幼保健院", "妇幼"),
                          ("社区卫生服务中心", "社区"), ("中西医结合医院", "中西医结合"), ("中西医结合医院", "中西"),
                          ("儿童医院", "儿童")):
        m = re.fullmatch(rf"([\u4e00-\u9fff]{{2,}}|[省市]){suffix}", name)
        if m and m.group(1) not in _NOT_A_NAME_START:
            yield m.group(1) + short
    # A specialty hospital by its own name and specialty (博大肾科, 爱尔眼科, 邦德骨科, 仁品耳鼻喉):
    # what everyone calls it, without 南京 and 医院.
    m = re.fullmatch(r"南京(?:市)?([\u4e00-\u9fff]{2})(肾科|眼科|骨科|口腔|耳鼻喉|整形外科|妇产|肛肠|皮肤|心血管)(?:专科)?医院", name)
    if m:
        yield m.group(1) + m.group(2)
    m = re.fullmatch(r"(市|省)第([一二三四五六七八九十]+)医院", name)
    if m:
        yield f"{m.group(1)}{m.group(2)}医院"
    for bare in bare_districts:
        yield from _replace(name, bare + "区", bare)
    m = re.fullmatch(r"(.+?)[(（].+[)）]", name)  # a campus in brackets: keep the campus, no bare name
    if m:
        return


def _replace(name: str, old: str, new: str):
    if old in name:
        variant = name.replace(old, new, 1)
        if variant and variant != name:
            yield variant


def match_key(name: str, districts: list[str]) -> str:
    """Printed variants of one full name share this key: 南京江北人民医院 ~ 南京市江北人民医院."""
    key = fold(name)
    for prefix in ("南京市", "南京"):
        if key.startswith(prefix):
            key = key[len(prefix):]
            break
    for district in districts:
        bare = district.removesuffix("区")
        if key.startswith(bare + "区"):
            key = bare + key[len(bare) + 1:]
    return key


@lru_cache(maxsize=4)
def load_guidance(path: Path = GUIDANCE_FILE) -> tuple[tuple[str, str, str], ...]:
    """(topic, text, source) of every curated statement."""
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    return tuple((str(i["topic"]), " ".join(str(i["text"]).split()), str(i["source"])) for i in raw)
