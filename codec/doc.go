// Package codec holds the wire types of the Open Wearables API and turns
// request bodies into validated batches and responses into JSON.
//
// It is the only importer of sonic. Decoding never keeps a reference into the
// caller's buffer: sonic.Unmarshal copies every string it returns, so a
// decoded value may outlive the request it came from.
//
// DecodeSync decodes a sync body in one typed pass (sync.go); a body that
// pass cannot take is decoded again as a generic tree, item by item, so that
// a bad item costs only itself (sync_slow.go). Both end in the same
// validation of each item (sync_validate.go).
//
// A validated batch also has a compact binary form, the queued form
// (AppendQueued, DecodeQueued): what the write path puts in the
// write-ahead queue and the compactor indexes, without parsing JSON twice.
package codec
