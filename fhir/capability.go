package fhir

import "time"

// The CapabilityStatement: what the server does, for clients that ask
// /metadata before anything else.

type capabilityStatement struct {
	ResourceType   string            `json:"resourceType"`
	Status         string            `json:"status"`
	Date           string            `json:"date"`
	Publisher      string            `json:"publisher"`
	Kind           string            `json:"kind"`
	Software       capSoftware       `json:"software"`
	Implementation capImplementation `json:"implementation"`
	FHIRVersion    string            `json:"fhirVersion"`
	Format         []string          `json:"format"`
	Rest           []capRest         `json:"rest"`
}

type capSoftware struct {
	Name string `json:"name"`
}

type capImplementation struct {
	Description string `json:"description"`
	URL         string `json:"url"`
}

type capRest struct {
	Mode      string         `json:"mode"`
	Security  capSecurity    `json:"security"`
	Resource  []capResource  `json:"resource"`
	Operation []capOperation `json:"operation"`
}

type capSecurity struct {
	Description string `json:"description"`
}

type capResource struct {
	Type        string         `json:"type"`
	Interaction []capCode      `json:"interaction"`
	SearchParam []capParam     `json:"searchParam,omitempty"`
	Operation   []capOperation `json:"operation,omitempty"`
}

type capCode struct {
	Code string `json:"code"`
}

type capParam struct {
	Name string `json:"name"`
	Type string `json:"type"`
}

type capOperation struct {
	Name       string `json:"name"`
	Definition string `json:"definition"`
}

// Capability is the server's CapabilityStatement; base is its FHIR base
// URL.
func Capability(base string, now time.Time) any {
	export := capOperation{Name: "export", Definition: "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/patient-export"}
	return &capabilityStatement{
		ResourceType: "CapabilityStatement", Status: "active", Date: Instant(now), Publisher: "wearhouse",
		Kind: "instance", Software: capSoftware{Name: "wearhouse"},
		Implementation: capImplementation{Description: "wearhouse: wearable health data as FHIR R4", URL: base},
		FHIRVersion:    "4.0.0", Format: []string{"application/fhir+json"},
		Rest: []capRest{{
			Mode:     "server",
			Security: capSecurity{Description: "An API key of the admin or read scope in X-Open-Wearables-API-Key, or a console session."},
			Resource: []capResource{
				{Type: "Patient", Interaction: []capCode{{"read"}},
					Operation: []capOperation{{Name: "everything", Definition: "http://hl7.org/fhir/OperationDefinition/Patient-everything"}, export}},
				{Type: "Observation", Interaction: []capCode{{"search-type"}},
					SearchParam: []capParam{{"patient", "reference"}, {"code", "token"}, {"date", "date"}, {"_count", "number"}}},
				{Type: "Device", Interaction: []capCode{{"search-type"}}, SearchParam: []capParam{{"patient", "reference"}}},
				{Type: "Group", Interaction: []capCode{},
					Operation: []capOperation{{Name: "export", Definition: "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/group-export"}}},
			},
			Operation: []capOperation{export},
		}},
	}
}
