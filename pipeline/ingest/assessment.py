"""The assessment sheet: Brilha (2016) criterion scores, one row per geosite.

The sheet is read and validated against its contract; each row must name a
geosite of the register. Scoring itself is in :mod:`pipeline.assessment`.
"""

from __future__ import annotations

import pandas as pd

from pipeline.assessment import score_columns
from pipeline.config import Config, InputFile
from pipeline.contracts import Rejection, load_schema, validate_table
from pipeline.errors import InputError
from pipeline.ingest.core import file_label, read, unknown_geosite
from pipeline.vntext import TextChange

TRUE_WORDS = {"true", "yes", "1", "có", "x"}


def ingest_assessment(
    spec: InputFile,
    cfg: Config,
    known_codes: set[str],
    held: dict[str, str],
    notes: list[str],
    changes: list[TextChange],
) -> tuple[pd.DataFrame, list[Rejection]]:
    """Read and validate the assessment sheet against its contract.

    Parameters
    ----------
    spec
        The ``[inputs.assessment]`` entry (CSV or XLSX, with its schema).
    cfg
        The configuration (file names are quoted relative to it).
    known_codes
        Geosite codes of the validated register.
    held
        Codes whose register row was rejected, each with that row (their rows
        are held too, as consequences of it).
    notes, changes
        Where reading notes and changed text cells are listed.

    Returns
    -------
    (sheet, rejections)
        Valid rows with integer scores and a boolean ``illustrative``, and a
        :class:`Rejection` for every row that breaks the contract or names a
        geosite the register does not have.
    """
    file, result = read(spec, cfg)
    notes += result.notes
    changes += result.changes
    register_file = file_label(cfg.inputs.geosites.path, cfg)
    table = pd.DataFrame(result.frame)
    if "geometry" in table.columns:
        table = table.drop(columns="geometry")
    schema = load_schema(spec.schema_) if spec.schema_ else {"fields": []}
    valid, rejections = validate_table(table, schema, file=file, id_field="geosite_code")
    scores = score_columns()
    missing = [c for c in scores if c not in table.columns]
    if missing:
        raise InputError(
            f"bảng đánh giá thiếu cột tiêu chí {', '.join(missing)}",
            f"the assessment sheet lacks criterion column(s) {', '.join(missing)}",
            file=file,
            row=1,
            field=", ".join(missing),
            fix="add one 0-4 score column per Brilha (2016) criterion (see the contract "
            f"{spec.schema_.name if spec.schema_ else 'schemas/assessment.schema.json'})",
            fix_vi="thêm mỗi tiêu chí Brilha (2016) một cột điểm 0-4 (xem lược đồ)",
        )
    unknown = ~valid["geosite_code"].isin(known_codes)
    rejections += [
        unknown_geosite(
            file,
            int(row["_row"]),
            row["geosite_code"],
            str(row["geosite_code"]),
            register_file,
            held,
        )
        for _, row in valid.loc[unknown].iterrows()
    ]
    valid = valid.loc[~unknown].copy()
    for col in scores:
        valid[col] = valid[col].astype(int)
    valid["illustrative"] = (
        valid["illustrative"].astype("string").str.strip().str.lower().isin(TRUE_WORDS)
    )
    keep = ["geosite_code", "illustrative", *scores]
    return valid[keep].sort_values("geosite_code").reset_index(drop=True), rejections
