"""The park's vocabulary in Vietnamese: one place for the names every output shows.

Categories and significance levels are named once, by the labels of the one
symbology (``pipeline/symbology.json``); the rest are defined here.

Keys are the values the contracts in ``schemas/`` allow (English, as stored);
the values are their Vietnamese names, shown first with the English beside.
"""

from __future__ import annotations

from pipeline.symbology import symbology


def _vietnamese(group: str) -> dict[str, str]:
    """The Vietnamese names of a group of the one symbology (``pipeline/symbology.json``,
    the source of the bilingual labels, which QGIS's styles read too): the part
    of each ``"Vietnamese / English"`` label before the slash, in running text
    (lower-case first letter), in the symbology's order."""
    names = {}
    for key, look in symbology()[group].items():
        vietnamese = look["label"].split(" / ")[0]
        names[key] = vietnamese[:1].lower() + vietnamese[1:]
    return names


CATEGORY_VI: dict[str, str] = _vietnamese("categories")
#: What kind of heritage a register row is. A geosite (điểm di sản địa chất) is
#: heritage for its geology; a cultural site (điểm di sản văn hóa: a museum, a
#: village, a citadel, a pagoda) is heritage of another kind that the park
#: manages beside its geosites, never a "cultural geosite". An archaeological
#: cave stays a geosite (with cultural value): the cave itself is geology.
HERITAGE_TYPE_VI: dict[str, str] = {
    "geosite": "điểm di sản địa chất",
    "cultural_site": "điểm di sản văn hóa",
}
#: Categories whose rows are cultural sites when ``heritage_type`` is not given.
CULTURAL_SITE_CATEGORIES: frozenset[str] = frozenset({"cultural"})
#: Most significant first.
SIGNIFICANCE_VI: dict[str, str] = _vietnamese("significance")
MEMBERSHIP_VI: dict[str, str] = {
    "full": "toàn phần",
    "partial": "một phần",
    "none": "ngoài công viên",
}
SEVERITY_VI: dict[str, str] = {"error": "lỗi", "warning": "cảnh báo", "info": "thông tin"}
#: Status of a zoning unit: as zoned, adjusted by hand, approved by decision.
UNIT_STATUS_VI: dict[str, str] = {
    "proposed": "đề xuất",
    "adjusted": "đã hiệu chỉnh",
    "approved": "đã phê duyệt",
}
#: Kinds of threat layer (``[[inputs.threats]] kind``) and their Vietnamese names.
THREAT_KIND_VI: dict[str, str] = {
    "mining_licence": "giấy phép khai thác khoáng sản",
    "quarry": "mỏ đá",
    "road": "đường giao thông",
    "hydropower": "thủy điện",
    "reservoir": "hồ chứa",
    "construction": "công trình xây dựng",
    "land_use_plan": "quy hoạch sử dụng đất",
    "tourism_works": "công trình du lịch",
    "landslide": "vùng trượt lở",
    "collapse": "vùng sụt lún",
}
THREAT_STATUS_VI: dict[str, str] = {
    "existing": "hiện hữu",
    "licensed": "đã cấp phép",
    "planned": "quy hoạch",
}


def heritage_type(category: str, declared: str | None = None) -> str:
    """``geosite`` or ``cultural_site``: the register's ``heritage_type`` when given,
    otherwise from the category (``cultural`` is a cultural site, every geological
    category, ``archaeological`` included, a geosite).

    >>> heritage_type("cultural"), heritage_type("archaeological")
    ('cultural_site', 'geosite')
    >>> heritage_type("cave", "cultural_site")
    'cultural_site'
    """
    if declared:
        return declared
    return "cultural_site" if category in CULTURAL_SITE_CATEGORIES else "geosite"
