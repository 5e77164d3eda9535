package applehealth

import "time"

// RoutePoint is one point of a workout route, from the GPX files the export
// keeps in workout-routes/. A field the file does not give is NaN (the
// floats) or zero (Time).
type RoutePoint struct {
	Time      time.Time
	Latitude  float64
	Longitude float64
	// Elevation is in meters.
	Elevation float64
	// Speed is in m/s, Course in degrees; HorizontalAccuracy and
	// VerticalAccuracy in meters (Apple's extensions: speed, course, hAcc,
	// vAcc).
	Speed              float64
	Course             float64
	HorizontalAccuracy float64
	VerticalAccuracy   float64
}
