"""SDMX-JSON 2.0.0 structure messages: the same artefacts as the SDMX-ML ones.

Every nameable artefact has `name` in the language the client prefers (Accept-Language,
Vietnamese by default) and `names` in both, as the SDMX-JSON 2.0 schema has it. References
are URNs. The availability constraint is a `dataConstraints` entry with role `Actual`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

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
from chiso_shared.languages import LANGUAGES, Language

SCHEMA = (
    "https://raw.githubusercontent.com/sdmx-twg/sdmx-json/develop/structure-message/tools/"
    "schemas/2.0.0/sdmx-json-structure-schema.json"
)
_URN = "urn:sdmx:org.sdmx.infomodel."
DSD_URN = f"{_URN}datastructure.DataStructure={AGENCY}:{DSD}({VERSION})"
FLOW_URN = f"{_URN}datastructure.Dataflow={AGENCY}:{FLOW}({VERSION})"


def _concept_urn(concept: str) -> str:
    return f"{_URN}conceptscheme.Concept={AGENCY}:{CONCEPTS}({VERSION}).{concept}"


def _codelist_urn(codelist: str) -> str:
    return f"{_URN}codelist.Codelist={AGENCY}:{codelist}({VERSION})"


def _named(id_: str, label: Label, language: Language) -> dict[str, Any]:
    return {"id": id_, "name": label(language), "names": dict(label.items())}


def _maintainable(id_: str, label: Label, language: Language) -> dict[str, Any]:
    return {"agencyID": AGENCY, **_named(id_, label, language), "version": VERSION}


def _component(id_: str, representation: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": id_,
        "conceptIdentity": _concept_urn(id_),
        "localRepresentation": representation,
    }


def _observation_attribute(id_: str, usage: str, representation: dict[str, Any]) -> Any:
    return {
        **_component(id_, representation),
        "usage": usage,
        "attributeRelationship": {"observation": {}},
        "measureRelationship": [MEASURE_ID],
    }


def _datastructure(language: Language) -> dict[str, Any]:
    dimensions = [
        {**_component(d.id, {"enumeration": _codelist_urn(d.codelist)}), "position": position}
        for position, d in enumerate(DIMENSIONS)
    ]
    time = {
        **_component(TIME, {"format": {"dataType": "ObservationalTimePeriod"}}),
        "position": len(DIMENSIONS),
    }
    status = {"enumeration": _codelist_urn("CL_OBS_STATUS")}
    return {
        **_maintainable(DSD, DSD_NAME, language),
        "dataStructureComponents": {
            "dimensionList": {
                "id": "DimensionDescriptor",
                "dimensions": dimensions,
                "timeDimension": time,
            },
            "attributeList": {
                "id": "AttributeDescriptor",
                "attributes": [
                    _observation_attribute(STATUS_ATTR, "mandatory", status),
                    _observation_attribute(
                        QUALITY_ATTR, "optional", {"format": {"dataType": "String"}}
                    ),
                ],
            },
            "measureList": {
                "id": "MeasureDescriptor",
                "measures": [
                    {
                        "id": MEASURE_ID,
                        "conceptIdentity": _concept_urn(MEASURE_ID),
                        "usage": "mandatory",
                        "localRepresentation": {"format": {"dataType": "Double"}},
                    }
                ],
            },
        },
    }


def _constraint(availability: Availability, language: Language) -> dict[str, Any]:
    key_values: list[dict[str, Any]] = [
        {"id": dimension, "values": [{"value": code} for code in codes]}
        for dimension, codes in availability.codes.items()
    ]
    if availability.start is not None and availability.end is not None:
        time_range = {
            "startPeriod": {"period": availability.start.isoformat(), "isInclusive": True},
            "endPeriod": {"period": availability.end.isoformat(), "isInclusive": True},
        }
        key_values.append({"id": TIME, "timeRange": time_range})
    metrics = [
        {"id": "series_count", "title": str(availability.series_count), "type": "sdmx_metrics"},
        {"id": "obs_count", "title": str(availability.obs_count), "type": "sdmx_metrics"},
    ]
    return {
        **_maintainable(CONSTRAINT, CONSTRAINT_NAME, language),
        "annotations": metrics,
        "role": "Actual",
        "constraintAttachment": {"dataflows": [FLOW_URN]},
        "cubeRegions": [{"include": True, "keyValues": key_values}],
    }


def structure_message(
    parts: set[str],
    codelist_ids: Iterable[str] | None,
    language: Language,
    availability: Availability | None = None,
) -> bytes:
    """The SDMX-JSON twin of `xml.structure_message`."""
    data: dict[str, Any] = {}
    if "dataflow" in parts:
        data["dataflows"] = [{**_maintainable(FLOW, FLOW_NAME, language), "structure": DSD_URN}]
    if "datastructure" in parts:
        data["dataStructures"] = [_datastructure(language)]
    if "conceptscheme" in parts:
        scheme = _maintainable(CONCEPTS, CONCEPTS_NAME, language)
        scheme["concepts"] = [_named(c, name, language) for c, name in concepts().items()]
        data["conceptSchemes"] = [scheme]
    if "codelist" in parts:
        wanted = set(codelist_ids) if codelist_ids is not None else set(codelists())
        data["codelists"] = [
            {
                **_maintainable(list_id, codelist.name, language),
                "codes": [_named(code, name, language) for code, name in codelist.codes.items()],
            }
            for list_id, codelist in codelists().items()
            if list_id in wanted
        ]
    if availability is not None:
        data["dataConstraints"] = [_constraint(availability, language)]
    message = {
        "meta": {
            "schema": SCHEMA,
            "id": "STRUCTURE",
            "test": False,
            "prepared": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "contentLanguages": [language, *(other for other in LANGUAGES if other != language)],
            "sender": {"id": AGENCY},
        },
        "data": data,
    }
    return json.dumps(message, ensure_ascii=False, separators=(",", ":")).encode()
