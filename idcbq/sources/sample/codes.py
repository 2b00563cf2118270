"""Real coded concepts (SNOMED CT, DCM, UCUM) used in the sample's nested sequences.

Each code is ``(CodeValue, CodingSchemeDesignator, CodeMeaning)``; the values are the
public codes IDC's derived objects use (DICOM PS3.16 context groups).
"""

from __future__ import annotations

Code = tuple[str, str, str]


def code_item(code: Code) -> dict[str, str]:
    """A code sequence item, as BigQuery stores it."""
    value, scheme, meaning = code
    return {"CodeValue": value, "CodingSchemeDesignator": scheme, "CodeMeaning": meaning}


# CID 7150 segmentation property categories.
CATEGORY_ANATOMICAL = ("123037004", "SCT", "Anatomical Structure")
CATEGORY_MORPH = ("49755003", "SCT", "Morphologically Altered Structure")
CATEGORY_TISSUE = ("85756007", "SCT", "Tissue")

#: (category, type) pairs for radiology segmentations.
SEGMENT_TYPES_RADIOLOGY: tuple[tuple[Code, Code], ...] = (
    (CATEGORY_ANATOMICAL, ("39607008", "SCT", "Lung")),
    (CATEGORY_ANATOMICAL, ("10200004", "SCT", "Liver")),
    (CATEGORY_ANATOMICAL, ("64033007", "SCT", "Kidney")),
    (CATEGORY_ANATOMICAL, ("80891009", "SCT", "Heart")),
    (CATEGORY_ANATOMICAL, ("41216001", "SCT", "Prostate")),
    (CATEGORY_ANATOMICAL, ("78961009", "SCT", "Spleen")),
    (CATEGORY_MORPH, ("108369006", "SCT", "Neoplasm")),
    (CATEGORY_MORPH, ("4147007", "SCT", "Mass")),
    (CATEGORY_MORPH, ("27925004", "SCT", "Nodule")),
)
#: (category, type) pairs for pathology segmentations.
SEGMENT_TYPES_PATHOLOGY: tuple[tuple[Code, Code], ...] = (
    (CATEGORY_TISSUE, ("84640000", "SCT", "Nucleus")),
    (CATEGORY_TISSUE, ("47973001", "SCT", "Lymphocyte")),
    (CATEGORY_MORPH, ("108369006", "SCT", "Neoplasm")),
)
ANATOMIC_REGIONS: tuple[Code, ...] = (
    ("51185008", "SCT", "Thorax"),
    ("818983003", "SCT", "Abdomen"),
    ("41216001", "SCT", "Prostate"),
    ("69536005", "SCT", "Head"),
)

# SR (TID 1500) concepts.
SR_TITLE = ("126000", "DCM", "Imaging Measurement Report")
SR_MEASUREMENT_GROUP = ("125007", "DCM", "Measurement Group")
SR_TRACKING_ID = ("112039", "DCM", "Tracking Identifier")
SR_FINDING = ("121071", "DCM", "Finding")
SR_TRACKING_UID = ("112040", "DCM", "Tracking Unique Identifier")
SR_SOURCE_SERIES = ("121232", "DCM", "Source series for segmentation")
SR_REFERENCED_SEGMENT = ("121191", "DCM", "Referenced Segment")
#: Finding Site: the retired SRT code (older dcmqi SRs) and its SNOMED CT successor.
SR_FINDING_SITE_SRT = ("G-C0E3", "SRT", "Finding Site")
SR_FINDING_SITE_SCT = ("363698007", "SCT", "Finding Site")
SR_LATERALITY = ("272741003", "SCT", "Laterality")
LATERALITIES: tuple[Code, ...] = (("7771000", "SCT", "Left"), ("24028007", "SCT", "Right"))
SR_DERIVATION = ("121401", "DCM", "Derivation")
DERIVATIONS: tuple[Code, ...] = (
    ("R-00317", "SRT", "Mean"),
    ("R-404FB", "SRT", "Maximum"),
)
SR_FINDINGS: tuple[Code, ...] = (
    ("108369006", "SCT", "Neoplasm"),
    ("27925004", "SCT", "Nodule"),
)
SR_FINDING_SITES: tuple[Code, ...] = (
    ("41216001", "SCT", "Prostate"),
    ("39607008", "SCT", "Lung"),
    ("71854001", "SCT", "Colon"),
)
#: Qualitative evaluations (concept, possible values) as the LIDC-IDRI TID 1500 SRs
#: code them (NCIt and the private 99LIDCQIICR scheme).
SR_QUALITATIVE: tuple[tuple[Code, tuple[Code, ...]], ...] = (
    (
        ("C45992", "NCIt", "Subtlety score"),
        (
            ("101", "99LIDCQIICR", "1 out of 5 (Extremely subtle)"),
            ("103", "99LIDCQIICR", "3 out of 5 (Fairly subtle)"),
            ("105", "99LIDCQIICR", "5 out of 5 (Obvious)"),
        ),
    ),
    (
        ("C25563", "NCIt", "Margin"),
        (
            ("RID5709", "RadLex", "Indistinct margin"),
            ("RID5707", "RadLex", "Circumscribed margin"),
        ),
    ),
    (
        ("900", "99LIDCQIICR", "Malignancy"),
        (
            ("901", "99LIDCQIICR", "1 out of 5 (Highly Unlikely for Cancer)"),
            ("903", "99LIDCQIICR", "3 out of 5 (Indeterminate Likelihood)"),
            ("905", "99LIDCQIICR", "5 out of 5 (Highly Suspicious for Cancer)"),
        ),
    ),
)
SR_MEASUREMENTS: tuple[tuple[Code, Code], ...] = (
    (("118565006", "SCT", "Volume"), ("mm3", "UCUM", "cubic millimeter")),
    (("410668003", "SCT", "Length"), ("mm", "UCUM", "millimeter")),
    (("112031", "DCM", "Attenuation Coefficient"), ("[hnsf'U]", "UCUM", "Hounsfield unit")),
    (("126401", "DCM", "SUVbw"), ("{SUVbw}g/ml", "UCUM", "Standardized Uptake Value body weight")),
)

# PET radiopharmaceuticals: (name, radionuclide code, half-life s, agent code).
RADIOPHARMACEUTICALS = (
    (
        "Fluorodeoxyglucose",
        ("C-111A1", "SRT", "^18^Fluorine"),
        "6586.2",
        ("C-B1031", "SRT", "Fluorodeoxyglucose F^18^"),
    ),
    (
        "Sodium Fluoride",
        ("C-111A1", "SRT", "^18^Fluorine"),
        "6586.2",
        ("C-B1043", "SRT", "Sodium fluoride F^18^"),
    ),
)

# Slide microscopy.
EMBEDDING_MEDIUM = ("430863003", "SCT", "Embedding medium")
TISSUE_FIXATIVE = ("430864009", "SCT", "Tissue Fixative")
USING_SUBSTANCE = ("424361007", "SCT", "Using substance")
PARAFFIN = ("311731000", "SCT", "Paraffin wax")
OCT = ("433469005", "SCT", "Tissue freezing medium")
FORMALIN = ("431510009", "SCT", "Formalin")
STAINS: tuple[tuple[Code, ...], ...] = (
    (("12710003", "SCT", "hematoxylin stain"), ("36879007", "SCT", "water soluble eosin stain")),
    (("12710003", "SCT", "hematoxylin stain"),),
)
ILLUMINATION_BRIGHTFIELD = ("111744", "DCM", "Brightfield illumination")
PRIMARY_ANATOMY: tuple[Code, ...] = (
    ("74262004", "SCT", "Oral cavity"),
    ("39607008", "SCT", "Lung"),
    ("81745001", "SCT", "Eye"),
    ("71854001", "SCT", "Colon"),
    ("71616004", "SCT", "Skin"),
)
ANATOMY_MODIFIER_TUMOR = ("86049000", "SCT", "Neoplasm, Primary")
ADMITTING_DIAGNOSES: tuple[Code, ...] = (
    ("C43.9", "I10", "Malignant melanoma of skin, unspecified"),
    ("C69.9", "I10", "Malignant neoplasm of eye, unspecified"),
    ("C49.9", "I10", "Malignant neoplasm of connective and soft tissue"),
)

# Microscopy bulk annotations.
ANN_CATEGORY = ("91723000", "SCT", "Anatomical structure")
ANN_TYPE = ("84640000", "SCT", "Nucleus")

# RTSTRUCT ROI names with their interpreted types.
ROIS = (
    ("GTV", "GTV"),
    ("Lung_L", "ORGAN"),
    ("Lung_R", "ORGAN"),
    ("Heart", "ORGAN"),
    ("Esophagus", "ORGAN"),
    ("SpinalCord", "ORGAN"),
    ("External", "EXTERNAL"),
)
