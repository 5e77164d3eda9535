// Package health is wearhouse's vocabulary: the series types with their
// persistent ids, units, categories and aggregation; the mapping tables from
// the mobile SDKs' strings (Apple HealthKit, Samsung Health, Google Health
// Connect) to those series, to the unified workout types and to workout
// detail fields; the unit conversions; the SDK providers and device-type
// inference; sleep stages and session building; and the rules of the
// summaries: maximum heart rate and intensity zones, active minutes, SpO2
// scale, sleep interruptions and blood-pressure pairing (activity.go,
// vitals.go, sleep.go); and Open Wearables' sleep and resilience scores
// (scores.go).
//
// Everything here is pure: data tables and functions over them, no I/O, no
// clocks, no globals that change after package initialisation. The package
// imports nothing of the project, so every other package may import it.
//
// # Data tables
//
// Each vocabulary lives in one table, declared as data next to the function
// that reads it:
//
//   - seriesTable (series.go): the 93 series types. Ids are persisted in
//     stored keys and must never change; new types only ever get new ids.
//   - metricTable (metrics.go): the 108 SDK record type strings and the
//     series each one is stored under; conversionTable: the five series whose
//     values are rescaled on the way in.
//   - workoutTypeTable (workouts.go): the 110 SDK workout type strings and
//     their unified workout type; unifiedWorkoutTypes: the 117 unified types;
//     workoutStatTable: what each workout statistic becomes.
//   - deviceRules (device.go): how a device model string is classified;
//     deviceTypePriority and providerTable: the default preference between
//     data sources, and each SDK provider's persisted one-byte key code.
//   - exportTargetTable, exportUnits (appleexport.go): the unit the iOS SDK
//     sends for each record type of the Apple Health export, and the export's
//     units with their exact factors; exportWorkoutTypeTable, the SDK's names
//     of the workout activity types; exportCategoryValues, HealthKit's raw
//     values of the category value names; exportWorkoutStatTable and
//     exportMetadataStatTable, the workout statistics the SDK reads.
//
// The tables follow Open Wearables (the SDKs' own server), so that data
// indexed here reads back like it does there. The tests hold the same rows,
// transcribed independently from Open Wearables' documentation, and compare
// them row by row with the lookups.
//
// # Decisions that differ from Open Wearables
//
//   - The provider string is compared after lower-casing, so "Apple" gets
//     the Apple body-fat conversion like "apple".
//   - Conversions are exact in decimal, as Open Wearables' are: a value is
//     scaled as the decimal number it was sent as, and the result is the
//     float64 nearest to the exact product, so 0.304 × 100 is 30.4, not
//     30.400000000000002. Open Wearables then stores three decimals
//     (110.1092202 mg/dL becomes 110.109); nothing here rounds.
//
// # Concurrency
//
// Every exported function is safe for concurrent use. Slices returned by
// functions are copies the caller may modify.
package health
