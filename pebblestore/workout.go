package pebblestore

import "encoding/json"

// WorkoutRecord is the main part of a stored workout. Its route, samples,
// laps and segments are stored as separate parts, as received.
type WorkoutRecord struct {
	Type            string             `json:"type"`               // unified workout type
	SDKType         string             `json:"sdk_type,omitempty"` // as sent
	Title           string             `json:"title,omitempty"`
	Notes           string             `json:"notes,omitempty"`
	Zone            string             `json:"zone,omitempty"`
	ExtID           string             `json:"ext_id,omitempty"`
	ParentID        string             `json:"parent_id,omitempty"`
	DurationSeconds int64              `json:"duration_seconds"`
	EnergyKcal      *float64           `json:"energy_kcal,omitempty"`
	Details         map[string]float64 `json:"details,omitempty"`
	Statistics      []WorkoutStat      `json:"statistics,omitempty"`
	Metadata        json.RawMessage    `json:"metadata,omitempty"`
	BatchSeq        uint64             `json:"batch_seq"`
}

// WorkoutStat is a statistic as sent.
type WorkoutStat struct {
	Type  string  `json:"type"`
	Unit  string  `json:"unit,omitempty"`
	Value float64 `json:"value"`
}

// EncodeWorkout encodes the main part of a workout.
func EncodeWorkout(w *WorkoutRecord) ([]byte, error) { return json.Marshal(w) }

// DecodeWorkout decodes the main part of a workout.
func DecodeWorkout(b []byte) (*WorkoutRecord, error) {
	var w WorkoutRecord
	if err := json.Unmarshal(b, &w); err != nil {
		return nil, err
	}
	return &w, nil
}
