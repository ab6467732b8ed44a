"""The QA report: ``qa_report.json`` for machines, ``qa_report.md`` for people."""

from __future__ import annotations

from typing import Any

import pandas as pd

from pipeline.checks import QAResult
from pipeline.config import Config
from pipeline.contracts import Rejection
from pipeline.numbers import both_numbers, en_number, vi_number
from pipeline.vntext import TextChange

SAMPLE_NOTE = (
    "Dữ liệu mẫu: vị trí chỉ gần đúng, không dùng cho hồ sơ pháp lý. / "
    "Sample data: locations are approximate, not for legal use."
)


def qa_json(
    qa: QAResult,
    cfg: Config,
    rejections: list[Rejection],
    counts: dict[str, int],
    notes: list[str],
    text_changes: list[TextChange] | None = None,
) -> dict[str, Any]:
    """The machine-readable report."""
    return {
        "status": qa.status,
        "park_area_km2": round(qa.park_area_km2, 4),
        "park_area_ellipsoidal_km2": round(qa.park_area_ellipsoidal_km2, 4),
        "declared_area_km2": qa.declared_area_km2,
        "area_tolerance_pct": cfg.park.area_tolerance_pct,
        "working_crs": cfg.working_crs,
        "sample_data": cfg.park.sample_data,
        "counts": counts,
        "severity_counts": qa.counts(),
        "totals": qa.totals,
        "findings": [f.as_dict() for f in qa.findings],
        "conflicts": _records(qa.conflicts),
        "computed_risk": _records(qa.computed_risk),
        "quarantine": [r.as_dict() for r in rejections],
        "name_conversions": notes,
        "text_changes": [c.as_dict() for c in text_changes or []],
    }


def grouped_quarantine(quarantine: list[dict[str, Any]]) -> list[tuple[dict[str, Any], bool]]:
    """Rejected rows in order, each row's consequences right after it (flagged True)."""
    following: dict[str, list[dict[str, Any]]] = {}
    causes = {f"{q['file']} row/dòng {q['row']}" for q in quarantine if not q.get("cause")}
    for q in quarantine:
        if q.get("cause") in causes:
            following.setdefault(q["cause"], []).append(q)
    out = []
    for q in quarantine:
        if q.get("cause") in causes:
            continue
        out.append((q, False))
        out += [(c, True) for c in following.pop(f"{q['file']} row/dòng {q['row']}", [])]
    return out


def _records(frame: Any) -> list[dict[str, Any]]:
    """Rows of a (Geo)DataFrame as plain dicts, geometry left out, missing as None."""
    if frame is None or len(frame) == 0:
        return []
    table = pd.DataFrame(frame).drop(columns="geometry", errors="ignore")
    table = table.astype(object).where(table.notna(), None)
    return table.to_dict("records")


def _table(headers: list[str], rows: list[list[Any]]) -> str:
    def cell(v: Any) -> str:
        return str(v).replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def qa_markdown(report: dict[str, Any], cfg: Config) -> str:
    """The readable report, Vietnamese first with English alongside."""
    status = report["status"]
    badge = "ĐẠT / PASS" if status == "pass" else "KHÔNG ĐẠT / FAIL"
    sev = report["severity_counts"]
    out = [
        f"# Báo cáo kiểm tra chất lượng / QA report — {cfg.park.name_vi}",
        "",
        f"**Kết quả / Status: {badge}** — "
        f"{sev['error']} lỗi / errors, {sev['warning']} cảnh báo / warnings, "
        f"{sev['info']} thông tin / info.",
        "",
    ]
    if cfg.park.sample_data:
        out += [f"> {SAMPLE_NOTE}", ""]
    changes = report.get("change_report")
    if changes:
        counted = ", ".join(f"{k}: {v}" for k, v in changes["summary"].items() if v) or "—"
        out += [
            f"Thay đổi so với lần trước / Changes since the previous outputs: "
            f"[{changes['markdown']}]({changes['markdown']}) ({counted}).",
            "",
        ]
    out += [
        "## Diện tích công viên / Park area",
        "",
        _table(
            ["", "km²"],
            [
                ["Công bố / declared", both_numbers(report["declared_area_km2"], 2)],
                [
                    f"Phẳng / planar ({report['working_crs']})",
                    both_numbers(report["park_area_km2"], 2),
                ],
                ["Ellipsoid / ellipsoidal", both_numbers(report["park_area_ellipsoidal_km2"], 2)],
                [
                    "Dung sai / tolerance",
                    "± " + both_numbers(report["area_tolerance_pct"], None, "%"),
                ],
            ],
        ),
        "",
        "## Số lượng / Counts",
        "",
        _table(
            ["lớp / layer", "số đối tượng / features"],
            [[k, v] for k, v in report["counts"].items()],
        ),
        "",
    ]
    problems = [f for f in report["findings"] if f["severity"] != "info"]
    out += ["## Lỗi và cảnh báo / Errors and warnings", ""]
    if problems:
        out.append(
            _table(
                ["mức / severity", "kiểm tra / check", "đối tượng / subject", "nội dung / message"],
                [
                    [f["severity"], f["check"], f["subject"], f"{f['message_vi']} / {f['message']}"]
                    for f in problems
                ],
            )
        )
    else:
        out.append("Không có. / None.")
    out += ["", *conflicts_markdown(report), ""]
    out += ["", "## Diện tích vùng bảo vệ theo huyện / Protected area per district", ""]
    out.append(
        _table(
            ["mã / code", "huyện / district", "vùng I / Zone I (ha)", "vùng II / Zone II (ha)"],
            [
                [
                    d["district_code"],
                    d["district_name"],
                    both_numbers(d["zone_i_ha"], 2),
                    both_numbers(d["zone_ii_ha"], 2),
                ]
                for d in report["totals"]["per_district"]
            ],
        )
    )
    park = report["totals"]["park"]
    out += [
        "",
        f"Toàn công viên: vùng I **{vi_number(park['zone_i_ha'], 2)} ha**, "
        f"vùng II **{vi_number(park['zone_ii_ha'], 2)} ha**, "
        f"tỷ lệ được bảo vệ **{vi_number(park['protected_share_pct'], 3)} %**. / "
        f"Park-wide: Zone I **{en_number(park['zone_i_ha'], 2)} ha**, "
        f"Zone II **{en_number(park['zone_ii_ha'], 2)} ha**, "
        f"share under protection **{en_number(park['protected_share_pct'], 3)} %**.",
        "",
        "## Dòng bị cách ly / Quarantined rows",
        "",
    ]
    if report["quarantine"]:
        out.append(
            _table(
                [
                    "tệp / file",
                    "dòng / row",
                    "trường / field",
                    "giá trị / value",
                    "cần / expected",
                    "lỗi / problem",
                ],
                [
                    [
                        ("↳ " if consequence else "") + q["file"],
                        q["row"],
                        q["field"],
                        q["value"],
                        q["expected"],
                        f"{q['message_vi']} / {q['message_en']}",
                    ]
                    for q, consequence in grouped_quarantine(report["quarantine"])
                ],
            )
        )
    else:
        out.append("Không có. / None.")
    if report["name_conversions"]:
        out += [
            "",
            "## Chuyển đổi tên, bảng mã, sửa hình học và cảnh báo khi đọc / Name and encoding conversions, repairs and ingest warnings",
            "",
        ]
        out += [f"- {n}" for n in report["name_conversions"]]
    if report.get("text_changes"):
        out += [
            "",
            "## Văn bản đầu vào đã thay đổi / Input text changed",
            "",
            _table(
                [
                    "tệp / file",
                    "dòng / row",
                    "trường / field",
                    "trước / before",
                    "sau / after",
                    "thay đổi / change",
                ],
                [
                    [
                        c["file"],
                        c["row"],
                        c["field"],
                        repr(c["before"]),
                        repr(c["after"]),
                        f"{c['change_vi']} / {c['change_en']}",
                    ]
                    for c in report["text_changes"]
                ],
            ),
        ]
    infos = [f for f in report["findings"] if f["severity"] == "info"]
    out += ["", "## Thông tin / Measurements", ""]
    out += [f"- {f['message_vi']} / {f['message']}" for f in infos]
    return "\n".join(out) + "\n"


def conflicts_markdown(report: dict[str, Any]) -> list[str]:
    """The threats section: conflicts with the zones and the computed risk criteria."""
    out = ["## Yếu tố đe dọa trong và gần vùng bảo vệ / Threats inside and near the zones", ""]
    conflicts = report.get("conflicts") or []
    if not conflicts:
        out.append("Không có. / None.")
    else:
        out.append(
            _table(
                [
                    "đơn vị / unit",
                    "vị trí / where",
                    "mức / severity",
                    "loại / kind",
                    "hiện trạng / status",
                    "mã / id",
                    "tên / name",
                    "chồng lấn / overlap (ha)",
                    "chiều dài / length (m)",
                    "cách điểm di sản / to geosite (m)",
                ],
                [
                    [
                        c["unit_code"],
                        c["relation"],
                        c["severity"],
                        c["kind"],
                        c["status"] or "existing",
                        c["threat_id"],
                        c["name"] or "",
                        both_numbers(c["overlap_area_ha"], 2),
                        both_numbers(c["overlap_length_m"], 0),
                        both_numbers(c["distance_m"], 0),
                    ]
                    for c in conflicts
                ],
            )
        )
    risk = report.get("computed_risk") or []
    if risk:
        out += [
            "",
            "### Rủi ro suy thoái tính từ dữ liệu / Degradation risk computed from data "
            "(Brilha 2016)",
            "",
            _table(
                [
                    "điểm / geosite",
                    "tiêu chí / criterion",
                    "tính / computed",
                    "nhập tay / hand-entered",
                    "khoảng cách / distance (m)",
                    "lớp / layers",
                    "khác / disagrees",
                ],
                [
                    [
                        r["geosite_code"],
                        r["criterion"],
                        r["computed_score"],
                        "—" if r["hand_score"] is None else r["hand_score"],
                        "—" if r["distance_m"] is None else both_numbers(r["distance_m"], 0),
                        r["source_layers"],
                        "có / yes" if r["disagrees"] else "",
                    ]
                    for r in risk
                ],
            ),
        ]
    return out


def summary_lines(report: dict[str, Any]) -> list[str]:
    """A few lines for the terminal."""
    sev = report["severity_counts"]
    park = report["totals"]["park"]
    lines = [
        f"QA: {report['status'].upper()} — {sev['error']} lỗi/errors, {sev['warning']} cảnh báo/warnings",
        f"Diện tích công viên: {vi_number(report['park_area_km2'], 2)} km² (phẳng), "
        f"{vi_number(report['park_area_ellipsoidal_km2'], 2)} km² (ellipsoid); công bố "
        f"{vi_number(report['declared_area_km2'], 2)} km² / "
        f"park area: {en_number(report['park_area_km2'], 2)} km² (planar), "
        f"{en_number(report['park_area_ellipsoidal_km2'], 2)} km² (ellipsoidal); declared "
        f"{en_number(report['declared_area_km2'], 2)} km²",
        f"Vùng I {vi_number(park['zone_i_ha'], 2)} ha, vùng II {vi_number(park['zone_ii_ha'], 2)} ha "
        f"({vi_number(park['protected_share_pct'], 3)} % công viên) / "
        f"Zone I {en_number(park['zone_i_ha'], 2)} ha, Zone II {en_number(park['zone_ii_ha'], 2)} ha "
        f"({en_number(park['protected_share_pct'], 3)} % of the park)",
    ]
    for f in report["findings"]:
        if f["severity"] != "info":
            lines.append(f"  [{f['severity']}] {f['check']}: {f['message_vi']} / {f['message']}")
    return lines
