"""The park's vocabulary in Vietnamese: one place for the names every output shows.

Keys are the values the contracts in ``schemas/`` allow (English, as stored);
the values are their Vietnamese names, shown first with the English beside.
"""

from __future__ import annotations

CATEGORY_VI: dict[str, str] = {
    "geomorphological": "địa mạo",
    "cave": "hang động",
    "paleontological": "cổ sinh",
    "stratigraphic": "địa tầng",
    "hydrogeological": "địa chất thủy văn",
    "archaeological": "khảo cổ",
    "cultural": "văn hóa",
}
#: Most significant first.
SIGNIFICANCE_VI: dict[str, str] = {
    "international": "quốc tế",
    "national": "quốc gia",
    "provincial": "cấp tỉnh",
    "local": "địa phương",
}
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
