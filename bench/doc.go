// Package bench measures wearhouse's ingest path: a generator of realistic
// sync bodies, a load driver, its report, and the ceiling (decoding alone of
// the same bodies). The workloads are Config structs and Run functions, so
// that `wearhouse bench` binds its flags into them and the Go benchmarks run
// the same workloads in-process. WriteExport writes Apple Health exports
// (export.xml or export.zip, any size, from a seed) for the importer.
//
// # Bodies
//
// Generator writes bodies the way the mobile SDKs batch: a combined round of
// Items items (2,000 by default) that mixes the provider's record types in
// equal shares, one night of sleep stages and one workout. Apple bodies use
// HealthKit identifiers, upper-case UUIDs and the iOS source block, and leave
// out the keys of absent values as iOS's encoder does. Samsung bodies carry
// <uid>-s<i> heart-rate series, -sys/-dia/-pulse blood pressure, a body
// composition split into -weight, -height, ..., hourly step and calorie
// aggregates with fresh ids, <uid>-s0-<k> sleep stages with a sleep score,
// and an exercise <uid>-s0 whose outdoor sessions hold a 1 Hz route and a
// 1 Hz heart-rate, cadence and speed log. Health Connect bodies carry
// <id>-s<i> heart-rate series, <id>-s<i> sleep stages and workouts with only
// their duration. Body i covers its own day (going back one day per body),
// so no two bodies hold the same samples.
//
// # Requests
//
// The driver pre-generates a pool of bodies before the clock starts. Request
// k sends pool body k mod P to user (k mod P + k div P) mod U, so a (user,
// body) pair repeats only after P×U requests, and it writes a fresh nonce
// into the envelope's syncSessionId, so that no two requests are
// byte-identical (the server answers a byte-identical body as a replay
// without writing it). Traffic goes only to loopback addresses.
//
// # Latency
//
// Latency is kept in an HDR histogram. In a closed loop (a fixed number of
// connections, each sending its next request when the previous one is
// answered) it is measured from the send. At a fixed offered rate it is
// measured from the scheduled send time, so that a slow answer that delays
// the following sends is counted against them too (no coordinated
// omission).
//
// # Compactor lag
//
// While the load runs, GET /readyz is sampled every LagInterval (500 ms) for
// the compactor's lag in seconds and batches; the report gives their median
// and maximum. After the load it polls until the lag is 0 batches, at most
// DrainTimeout (60 s), and reports how long that took and the records
// indexed per second from the load's start to the drain (the growth of
// indexed_records, which counts records, not sleep stages or workouts).
//
// # Verify
//
// With Verify, the driver remembers every (pool body, user) pair that got a
// 202, warm-up included. After the drain, each user's raw time series is
// read back over the span of its bodies, page by page, and every distinct
// (series, start) its acknowledged bodies' records are stored as must be
// there. The expected samples come from decoding each pool body as the
// server does and mapping each record type with health.MapMetric (a type of
// no series is stored under its own type string); records equal in (user,
// series, data source, start) overwrite each other, so they count once.
// Extra samples read back (earlier runs against the same server) are not
// an error; a missing one is.
package bench
