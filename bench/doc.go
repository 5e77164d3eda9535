// Package bench measures wearhouse's ingest path: a generator of realistic
// sync bodies, a load driver, its report, and the ceiling (decoding alone of
// the same bodies). The workloads are Config structs and Run functions, so
// that `wearhouse bench` binds its flags into them and the Go benchmarks run
// the same workloads in-process.
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
package bench
