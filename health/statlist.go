package health

// AllWorkoutStatistics returns every workout statistic type of the table, in
// table order; WorkoutStatistic gives each one's target. The slice is a copy.
func AllWorkoutStatistics() []string {
	out := make([]string, len(workoutStatTable))
	for i, s := range workoutStatTable {
		out[i] = s.Type
	}
	return out
}
