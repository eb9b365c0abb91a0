"""SDMX-ML 2.1 writers: structure messages, generic and structure-specific data."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from lxml import etree  # type: ignore[import-untyped]

from chiso_indicators.sdmx.model import (
    AGENCY,
    CONCEPTS,
    CONCEPTS_NAME,
    CONSTRAINT,
    CONSTRAINT_NAME,
    DIMENSIONS,
    DSD,
    DSD_NAME,
    FLOW,
    FLOW_NAME,
    MEASURE_ID,
    QUALITY_ATTR,
    STATUS_ATTR,
    TIME,
    VERSION,
    Availability,
    Label,
    codelists,
    concepts,
)

NS = "http://www.sdmx.org/resources/sdmxml/schemas/v2_1/"
MES, STR, COM = NS + "message", NS + "structure", NS + "common"
GEN, SS = NS + "data/generic", NS + "data/structurespecific"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
DSD_URN = f"urn:sdmx:org.sdmx.infomodel.datastructure.DataStructure={AGENCY}:{DSD}({VERSION})"
STRUCTURE_ID = f"{AGENCY}_{DSD}_{VERSION}"

Obs = tuple[str, float, str, str]  # period, value, OBS_STATUS, QUALITY_FLAG ("" for none)
SeriesData = tuple[Sequence[str], Sequence[Obs]]  # series key (DSD order), observations


def _el(parent: Any, ns: str, tag: str, text: str | None = None, **attrs: str) -> Any:
    node = etree.SubElement(parent, f"{{{ns}}}{tag}", attrs)
    if text is not None:
        node.text = text
    return node


def _name(parent: Any, label: Label) -> None:
    """One `Name` per language: clients pick theirs by `xml:lang`."""
    for language, text in label.items():
        _el(parent, COM, "Name", text, **{XML_LANG: language})


def _header(root: Any, message_id: str) -> Any:
    header = _el(root, MES, "Header")
    _el(header, MES, "ID", message_id)
    _el(header, MES, "Test", "false")
    _el(header, MES, "Prepared", datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S"))
    _el(header, MES, "Sender", id=AGENCY)
    return header


def _ref(parent: Any, **attrs: str) -> None:
    etree.SubElement(parent, "Ref", attrs)


def _concept_ref(parent: Any, concept: str) -> None:
    identity = _el(parent, STR, "ConceptIdentity")
    _ref(
        identity,
        id=concept,
        maintainableParentID=CONCEPTS,
        maintainableParentVersion=VERSION,
        agencyID=AGENCY,
        package="conceptscheme",
        **{"class": "Concept"},
    )


def _enumeration(parent: Any, codelist: str) -> None:
    representation = _el(parent, STR, "LocalRepresentation")
    enumeration = _el(representation, STR, "Enumeration")
    _ref(enumeration, id=codelist, version=VERSION, agencyID=AGENCY, package="codelist")
    enumeration[0].set("class", "Codelist")


def _maintainable(parent: Any, tag: str, id_: str, name: Label) -> Any:
    node = _el(parent, STR, tag, id=id_, agencyID=AGENCY, version=VERSION)
    node.set("isFinal", "false")
    _name(node, name)
    return node


def structure_message(
    parts: set[str],
    codelist_ids: Iterable[str] | None = None,
    availability: Availability | None = None,
) -> bytes:
    """A Structure message with the requested parts: dataflow, codelists, concepts, dsd, and
    the availability constraint when one is given."""
    root = etree.Element(f"{{{MES}}}Structure", nsmap={"mes": MES, "str": STR, "com": COM})
    _header(root, "STRUCTURE")
    structures = _el(root, MES, "Structures")
    if "dataflow" in parts:
        flows = _el(structures, STR, "Dataflows")
        flow = _maintainable(flows, "Dataflow", FLOW, FLOW_NAME)
        _ref(_el(flow, STR, "Structure"), id=DSD, version=VERSION, agencyID=AGENCY)
        flow[-1][0].set("package", "datastructure")
        flow[-1][0].set("class", "DataStructure")
    if "codelist" in parts:
        wanted = set(codelist_ids) if codelist_ids is not None else set(codelists())
        lists = _el(structures, STR, "Codelists")
        for list_id, codelist in codelists().items():
            if list_id not in wanted:
                continue
            node = _maintainable(lists, "Codelist", list_id, codelist.name)
            for code, name in codelist.codes.items():
                _name(_el(node, STR, "Code", id=code), name)
    if "conceptscheme" in parts:
        schemes = _el(structures, STR, "Concepts")
        scheme = _maintainable(schemes, "ConceptScheme", CONCEPTS, CONCEPTS_NAME)
        for concept, name in concepts().items():
            _name(_el(scheme, STR, "Concept", id=concept), name)
    if "datastructure" in parts:
        _datastructure(_el(structures, STR, "DataStructures"))
    if availability is not None:
        _constraint(_el(structures, STR, "Constraints"), availability)
    return _bytes(root)


def _annotation(parent: Any, id_: str, type_: str, title: str) -> None:
    annotation = _el(parent, COM, "Annotation", id=id_)
    _el(annotation, COM, "AnnotationTitle", title)
    _el(annotation, COM, "AnnotationType", type_)


def _constraint(parent: Any, availability: Availability) -> None:
    """An Actual ContentConstraint on the dataflow: one cube region of the codes with data.
    The series and observation counts ride as `sdmx_metrics` annotations, as the Fusion
    Metadata Registry writes them (pysdmx reads them back as counts)."""
    node = etree.SubElement(parent, f"{{{STR}}}ContentConstraint")
    for name, value in (("id", CONSTRAINT), ("agencyID", AGENCY), ("version", VERSION)):
        node.set(name, value)
    node.set("isFinal", "false")
    node.set("type", "Actual")
    annotations = _el(node, COM, "Annotations")
    _annotation(annotations, "series_count", "sdmx_metrics", str(availability.series_count))
    _annotation(annotations, "obs_count", "sdmx_metrics", str(availability.obs_count))
    _name(node, CONSTRAINT_NAME)
    attachment = _el(_el(node, STR, "ConstraintAttachment"), STR, "Dataflow")
    _ref(attachment, id=FLOW, version=VERSION, agencyID=AGENCY)
    attachment[0].set("package", "datastructure")
    attachment[0].set("class", "Dataflow")
    region = _el(node, STR, "CubeRegion", include="true")
    for dimension, codes in availability.codes.items():
        key_value = _el(region, COM, "KeyValue", id=dimension)
        for code in codes:
            _el(key_value, COM, "Value", code)
    if availability.start is not None and availability.end is not None:
        time_range = _el(_el(region, COM, "KeyValue", id=TIME), COM, "TimeRange")
        _el(time_range, COM, "StartPeriod", availability.start.isoformat(), isInclusive="true")
        _el(time_range, COM, "EndPeriod", availability.end.isoformat(), isInclusive="true")


def _datastructure(parent: Any) -> None:
    dsd = _maintainable(parent, "DataStructure", DSD, DSD_NAME)
    components = _el(dsd, STR, "DataStructureComponents")
    dimensions = _el(components, STR, "DimensionList", id="DimensionDescriptor")
    for position, dimension in enumerate(DIMENSIONS, start=1):
        node = _el(dimensions, STR, "Dimension", id=dimension.id, position=str(position))
        _concept_ref(node, dimension.id)
        _enumeration(node, dimension.codelist)
    time = _el(dimensions, STR, "TimeDimension", id=TIME, position=str(len(DIMENSIONS) + 1))
    _concept_ref(time, TIME)
    representation = _el(time, STR, "LocalRepresentation")
    _el(representation, STR, "TextFormat", textType="ObservationalTimePeriod")
    attributes = _el(components, STR, "AttributeList", id="AttributeDescriptor")
    status = _el(attributes, STR, "Attribute", id=STATUS_ATTR, assignmentStatus="Mandatory")
    _concept_ref(status, STATUS_ATTR)
    _enumeration(status, "CL_OBS_STATUS")
    relationship = _el(status, STR, "AttributeRelationship")
    _ref(_el(relationship, STR, "PrimaryMeasure"), id=MEASURE_ID)
    quality = _el(attributes, STR, "Attribute", id=QUALITY_ATTR, assignmentStatus="Conditional")
    _concept_ref(quality, QUALITY_ATTR)
    _el(_el(quality, STR, "LocalRepresentation"), STR, "TextFormat", textType="String")
    relationship = _el(quality, STR, "AttributeRelationship")
    _ref(_el(relationship, STR, "PrimaryMeasure"), id=MEASURE_ID)
    measures = _el(components, STR, "MeasureList", id="MeasureDescriptor")
    _concept_ref(_el(measures, STR, "PrimaryMeasure", id=MEASURE_ID), MEASURE_ID)


def _structure_header(root: Any, dimension_at_observation: str, *, namespace: bool) -> None:
    header = _header(root, "DATA")
    attrs = {"structureID": STRUCTURE_ID, "dimensionAtObservation": dimension_at_observation}
    if namespace:
        attrs = {"structureID": STRUCTURE_ID, "namespace": _ss_namespace(dimension_at_observation)}
        attrs["dimensionAtObservation"] = dimension_at_observation
    structure = _el(header, MES, "Structure", **attrs)
    _ref(_el(structure, COM, "Structure"), agencyID=AGENCY, id=DSD, version=VERSION)


def _ss_namespace(dimension_at_observation: str) -> str:
    level = "Flat" if dimension_at_observation == "AllDimensions" else "ObsLevelDim:" + TIME
    return f"{DSD_URN}:{level}"


def _number(value: float) -> str:
    return format(value, ".15g")


def generic_data(series: Sequence[SeriesData], *, flat: bool, detail: str) -> bytes:
    """GenericData; `flat` is dimensionAtObservation=AllDimensions (no series grouping)."""
    root = etree.Element(f"{{{MES}}}GenericData", nsmap={"mes": MES, "gen": GEN, "com": COM})
    _structure_header(root, "AllDimensions" if flat else TIME, namespace=False)
    dataset = _el(root, MES, "DataSet", structureRef=STRUCTURE_ID)
    ids = [d.id for d in DIMENSIONS]
    for key, observations in series:
        if flat:
            for period, value, status, flags in observations:
                obs = _el(dataset, GEN, "Obs")
                obs_key = _el(obs, GEN, "ObsKey")
                for dimension, code in (*zip(ids, key, strict=True), (TIME, period)):
                    _el(obs_key, GEN, "Value", id=dimension, value=code)
                _generic_obs_body(obs, value, status, flags, detail)
            continue
        node = _el(dataset, GEN, "Series")
        series_key = _el(node, GEN, "SeriesKey")
        for dimension, code in zip(ids, key, strict=True):
            _el(series_key, GEN, "Value", id=dimension, value=code)
        if detail == "serieskeysonly":
            continue
        for period, value, status, flags in observations:
            obs = _el(node, GEN, "Obs")
            _el(obs, GEN, "ObsDimension", value=period)
            _generic_obs_body(obs, value, status, flags, detail)
    return _bytes(root)


def _generic_obs_body(obs: Any, value: float, status: str, flags: str, detail: str) -> None:
    _el(obs, GEN, "ObsValue", value=_number(value))
    if detail != "dataonly":
        attributes = _el(obs, GEN, "Attributes")
        _el(attributes, GEN, "Value", id=STATUS_ATTR, value=status)
        if flags:
            _el(attributes, GEN, "Value", id=QUALITY_ATTR, value=flags)


def structure_specific_data(series: Sequence[SeriesData], *, flat: bool, detail: str) -> bytes:
    at_observation = "AllDimensions" if flat else TIME
    nsmap = {"mes": MES, "ss": SS, "com": COM, "xsi": XSI, "ns1": _ss_namespace(at_observation)}
    root = etree.Element(f"{{{MES}}}StructureSpecificData", nsmap=nsmap)
    _structure_header(root, at_observation, namespace=True)
    dataset = _el(root, MES, "DataSet")
    dataset.set(f"{{{SS}}}structureRef", STRUCTURE_ID)
    dataset.set(f"{{{XSI}}}type", "ns1:DataSetType")
    dataset.set(f"{{{SS}}}dataScope", "DataStructure")
    ids = [d.id for d in DIMENSIONS]
    for key, observations in series:
        dims = dict(zip(ids, key, strict=True))
        parent = dataset if flat else etree.SubElement(dataset, "Series", dims)
        if detail == "serieskeysonly" and not flat:
            continue
        for period, value, status, flags in observations:
            attrs = {**dims} if flat else {}
            attrs[TIME] = period
            attrs[MEASURE_ID] = _number(value)
            if detail != "dataonly":
                attrs[STATUS_ATTR] = status
                if flags:
                    attrs[QUALITY_ATTR] = flags
            etree.SubElement(parent, "Obs", attrs)
    return _bytes(root)


def _bytes(root: Any) -> bytes:
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))
