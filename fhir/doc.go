// Package fhir maps wearhouse's data, as query reads it, to FHIR R4
// resources: a Patient per user, a Device per data source, an Observation
// per sample (or per bucket of a resolution) and per sleep session, with
// LOINC codes first and the SDK's series code second (system
// urn:wearhouse:series), UCUM units and the vital-signs, activity or
// laboratory category. The LOINC table (codes.go) is data, tested row by
// row. Series outside it are exported with their SDK coding alone.
//
// An Observation's id and identifier (urn:wearhouse:observation) derive
// from the user, the series, the data source and the time, so that the
// same sample has the same id in every answer and every export.
//
// The package also pages searches into searchset Bundles (Search,
// NewBundle) and writes bulk export files as NDJSON (WriteObservations),
// streaming from query a chunk at a time. It does no I/O of its own
// beyond the io.Writer it is given and the Reader it reads through;
// HTTP, credentials and export jobs are httpapi's.
package fhir
