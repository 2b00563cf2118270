"""Which series go into the sample, and which of them can be seeded with real files.

Selection keeps whole studies, so derived series (SEG, RTSTRUCT, SR, ANN) are kept
together with the image series they reference. Within each collection it first picks,
for every (analysis result, modality) pair, the first study (in a stable hash order)
holding it, then fills up with further studies to ``max_series_per_collection``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from idcbq.errors import UsageError
from idcbq.sources.sample.ids import stable_int

#: The default sample: small collections that together cover CT, MR, PT, SEG,
#: RTSTRUCT, SR, SM and ANN, the three IDC buckets and several analysis results, plus
#: the trials whose clinical tables IDC's tutorials query (NLST, ACRIN-6698, HCC-TACE-Seg).
DEFAULT_COLLECTIONS = (
    "acrin_6698",
    "cc_radiomics_phantom",
    "cptac_cm",
    "hcc_tace_seg",
    "htan_vanderbilt",
    "mri_dir",
    "nlst",
    "nsclc_radiomics_interobserver1",
    "pdmr_997537_175_t",
    "qin_lung_ct",
    "qin_pet_phantom",
    "qin_prostate_repeatability",
    "rider_phantom_pet_ct",
    "rms_mutation_prediction",
    "tcga_uvm",
)
DEFAULT_MAX_SERIES_PER_COLLECTION = 60
#: Lower caps for collections with long studies (ACRIN-6698: up to 32 MR series per
#: study), so they add a few patients, not thousands of rows. Applies whenever a cap does.
SERIES_CAPS = {"acrin_6698": 16, "hcc_tace_seg": 24}
DEFAULT_MAX_INSTANCES_PER_SERIES = 32

#: Seedable series: real DICOM bytes are generated for them (see dicom_files.py).
SEEDABLE_MODALITIES = ("CT", "MR", "PT", "SEG", "SR", "RTSTRUCT")
SEEDABLE_SYNTAXES = ("1.2.840.10008.1.2", "1.2.840.10008.1.2.1")
SEEDABLE_PER_MODALITY = 5
SEEDABLE_MAX_INSTANCES = 100


def check_collections(requested: Iterable[str], known: Iterable[str]) -> list[str]:
    """Validate collection ids; unknown ones raise UsageError naming them."""
    known_set = set(known)
    wanted = [c.strip().lower() for c in requested if c and c.strip()]
    if not wanted:
        raise UsageError("no collection ids given", hint="e.g. --collections qin_pet_phantom")
    unknown = [c for c in wanted if c not in known_set]
    if unknown:
        close = sorted(k for k in known_set if any(u[:4] in k for u in unknown))[:5]
        raise UsageError(
            f"unknown collection id(s): {', '.join(unknown)}",
            hint=("did you mean: " + ", ".join(close)) if close else "see collections_index",
        )
    return sorted(dict.fromkeys(wanted))


def select_series(
    series: list[dict[str, Any]], *, max_series_per_collection: int | None
) -> list[dict[str, Any]]:
    """Whole studies per collection, covering every (analysis result, modality) pair."""
    if max_series_per_collection is None:
        return series
    by_collection: dict[str, dict[str, list[dict[str, Any]]]] = defaultdict(dict)
    for s in series:
        by_collection[s["collection_id"]].setdefault(s["StudyInstanceUID"], []).append(s)
    keep: set[str] = set()
    for coll, studies in by_collection.items():
        order = sorted(studies, key=lambda uid: (stable_int(coll, uid), uid))
        chosen: list[str] = []
        seen_kinds: set[tuple[Any, Any]] = set()
        for uid in order:
            kinds = {(s["analysis_result_id"], s["Modality"]) for s in studies[uid]}
            if kinds - seen_kinds:
                chosen.append(uid)
                seen_kinds |= kinds
        count = sum(len(studies[u]) for u in chosen)
        cap = min(max_series_per_collection, SERIES_CAPS.get(coll, max_series_per_collection))
        for uid in order:
            if count >= cap:
                break
            if uid not in chosen:
                chosen.append(uid)
                count += len(studies[uid])
        keep.update(chosen)
    return [s for s in series if s["StudyInstanceUID"] in keep]


def seedable_series(series: list[dict[str, Any]]) -> list[str]:
    """SeriesInstanceUIDs whose instances get real generated DICOM bytes.

    A few small, uncompressed series per modality, chosen by stable hash.
    """
    by_modality: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for s in series:
        syntaxes = set((s["TransferSyntaxUID"] or "").split(","))
        if (
            s["Modality"] in SEEDABLE_MODALITIES
            and syntaxes <= set(SEEDABLE_SYNTAXES)
            and 0 < s["instanceCount"] <= SEEDABLE_MAX_INSTANCES
        ):
            by_modality[s["Modality"]].append(s)
    out: list[str] = []
    for modality in SEEDABLE_MODALITIES:
        ranked = sorted(
            by_modality.get(modality, ()),
            key=lambda s: (stable_int("seed", s["SeriesInstanceUID"]), s["SeriesInstanceUID"]),
        )
        out.extend(s["SeriesInstanceUID"] for s in ranked[:SEEDABLE_PER_MODALITY])
    return sorted(out)
