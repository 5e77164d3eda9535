package applehealth

// Next returns the next item of the export, in file order: HealthData first,
// then ExportDate, Me and every Record, Workout and ActivitySummary. Records
// inside a Correlation come as Records; other elements (ClinicalRecord,
// Audiogram, VisionPrescription, Correlation itself...) are skipped. At the
// clean end of the file it returns io.EOF; any other error is an *Error (or
// the reader's) and ends the scan.
func (s *Scanner) Next() (Item, error) {
	for {
		t, err := s.next()
		if err != nil {
			return nil, err
		}
		if t.kind != startTag {
			continue
		}
		switch string(t.name) {
		case "HealthData":
			if s.depth() == 1 {
				h := &HealthData{}
				for _, a := range t.attrs {
					if string(a.name) == "locale" {
						h.Locale = s.intern(a.value)
					}
				}
				return h, nil
			}
		case "ExportDate":
			e := &ExportDate{}
			for _, a := range t.attrs {
				if string(a.name) == "value" {
					e.Value = string(a.value)
				}
			}
			return e, nil
		case "Me":
			return s.me(t), nil
		case "Record":
			return s.record(t)
		case "Workout":
			return s.workout(t)
		case "ActivitySummary":
			return s.activitySummary(t), nil
		}
	}
}

// intern returns b as a string shared with earlier items of the same value,
// for the values that repeat over millions of items (types, sources, units,
// devices, keys). The table is bounded; past it, b is copied.
func (s *Scanner) intern(b []byte) string {
	if v, ok := s.interned[string(b)]; ok {
		return v
	}
	v := string(b)
	if len(s.interned) < maxInterned && len(b) <= maxInternLen {
		s.interned[v] = v
	}
	return v
}

func (s *Scanner) me(t *token) *Me {
	m := &Me{}
	for _, a := range t.attrs {
		switch string(a.name) {
		case "HKCharacteristicTypeIdentifierDateOfBirth":
			m.DateOfBirth = string(a.value)
		case "HKCharacteristicTypeIdentifierBiologicalSex":
			m.BiologicalSex = s.intern(a.value)
		case "HKCharacteristicTypeIdentifierBloodType":
			m.BloodType = s.intern(a.value)
		case "HKCharacteristicTypeIdentifierFitzpatrickSkinType":
			m.FitzpatrickSkinType = s.intern(a.value)
		case "HKCharacteristicTypeIdentifierCardioFitnessMedicationsUse":
			m.CardioFitnessMedicationsUse = s.intern(a.value)
		}
	}
	return m
}

// children calls child for each start tag inside the element t opened (at
// any depth below it, with its depth relative to t), until t's end tag. A
// self-closing t has none. At most MaxChildren are visited.
func (s *Scanner) children(t *token, child func(t *token, depth int) error) error {
	if t.selfClosing {
		return nil
	}
	base := s.depth()
	for n := 0; ; {
		c, err := s.next()
		if err != nil {
			return err
		}
		if c.kind == endTag {
			if s.depth() < base {
				return nil
			}
			continue
		}
		if n++; n > MaxChildren {
			s.err = s.tooLarge("an item with more than %d children", MaxChildren)
			return s.err
		}
		if err := child(c, s.depth()-base); err != nil {
			return err
		}
	}
}

func (s *Scanner) metadata(t *token) Metadata {
	var m Metadata
	for _, a := range t.attrs {
		switch string(a.name) {
		case "key":
			m.Key = s.intern(a.value)
		case "value":
			m.Value = string(a.value)
		}
	}
	return m
}

func (s *Scanner) record(t *token) (*Record, error) {
	r := &Record{}
	for _, a := range t.attrs {
		switch string(a.name) {
		case "type":
			r.Type = s.intern(a.value)
		case "sourceName":
			r.SourceName = s.intern(a.value)
		case "sourceVersion":
			r.SourceVersion = s.intern(a.value)
		case "device":
			r.Device = s.intern(a.value)
		case "unit":
			r.Unit = s.intern(a.value)
		case "creationDate":
			r.CreationDate = string(a.value)
		case "startDate":
			r.StartDate = string(a.value)
		case "endDate":
			r.EndDate = string(a.value)
		case "value":
			r.Value = string(a.value)
		}
	}
	err := s.children(t, func(c *token, depth int) error {
		switch {
		case depth == 1 && string(c.name) == "MetadataEntry":
			r.Metadata = append(r.Metadata, s.metadata(c))
		case depth == 2 && string(c.name) == "InstantaneousBeatsPerMinute":
			var b InstantaneousBPM
			for _, a := range c.attrs {
				switch string(a.name) {
				case "bpm":
					b.BPM = string(a.value)
				case "time":
					b.Time = string(a.value)
				}
			}
			r.HRV = append(r.HRV, b)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return r, nil
}

func (s *Scanner) workout(t *token) (*Workout, error) {
	w := &Workout{}
	for _, a := range t.attrs {
		switch string(a.name) {
		case "workoutActivityType":
			w.ActivityType = s.intern(a.value)
		case "duration":
			w.Duration = string(a.value)
		case "durationUnit":
			w.DurationUnit = s.intern(a.value)
		case "totalDistance":
			w.TotalDistance = string(a.value)
		case "totalDistanceUnit":
			w.TotalDistanceUnit = s.intern(a.value)
		case "totalEnergyBurned":
			w.TotalEnergyBurned = string(a.value)
		case "totalEnergyBurnedUnit":
			w.TotalEnergyBurnedUnit = s.intern(a.value)
		case "sourceName":
			w.SourceName = s.intern(a.value)
		case "sourceVersion":
			w.SourceVersion = s.intern(a.value)
		case "device":
			w.Device = s.intern(a.value)
		case "creationDate":
			w.CreationDate = string(a.value)
		case "startDate":
			w.StartDate = string(a.value)
		case "endDate":
			w.EndDate = string(a.value)
		}
	}
	// parent is the kind of the depth-1 child the deeper ones belong to.
	var parent string
	err := s.children(t, func(c *token, depth int) error {
		if depth == 1 {
			parent = string(c.name)
		}
		switch {
		case depth == 1 && parent == "MetadataEntry":
			w.Metadata = append(w.Metadata, s.metadata(c))
		case depth == 1 && parent == "WorkoutEvent":
			w.Events = append(w.Events, s.workoutEvent(c))
		case depth == 1 && parent == "WorkoutStatistics":
			w.Statistics = append(w.Statistics, s.workoutStatistics(c))
		case depth == 1 && parent == "WorkoutRoute":
			w.Routes = append(w.Routes, s.workoutRoute(c))
		case depth == 2 && parent == "WorkoutEvent" && string(c.name) == "MetadataEntry":
			e := &w.Events[len(w.Events)-1]
			e.Metadata = append(e.Metadata, s.metadata(c))
		case depth == 2 && parent == "WorkoutRoute" && string(c.name) == "MetadataEntry":
			r := &w.Routes[len(w.Routes)-1]
			r.Metadata = append(r.Metadata, s.metadata(c))
		case depth == 2 && parent == "WorkoutRoute" && string(c.name) == "FileReference":
			r := &w.Routes[len(w.Routes)-1]
			for _, a := range c.attrs {
				if string(a.name) == "path" {
					r.FilePath = string(a.value)
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return w, nil
}

func (s *Scanner) workoutEvent(t *token) WorkoutEvent {
	var e WorkoutEvent
	for _, a := range t.attrs {
		switch string(a.name) {
		case "type":
			e.Type = s.intern(a.value)
		case "date":
			e.Date = string(a.value)
		case "duration":
			e.Duration = string(a.value)
		case "durationUnit":
			e.DurationUnit = s.intern(a.value)
		}
	}
	return e
}

func (s *Scanner) workoutStatistics(t *token) WorkoutStatistics {
	var st WorkoutStatistics
	for _, a := range t.attrs {
		switch string(a.name) {
		case "type":
			st.Type = s.intern(a.value)
		case "startDate":
			st.StartDate = string(a.value)
		case "endDate":
			st.EndDate = string(a.value)
		case "average":
			st.Average = string(a.value)
		case "minimum":
			st.Minimum = string(a.value)
		case "maximum":
			st.Maximum = string(a.value)
		case "sum":
			st.Sum = string(a.value)
		case "unit":
			st.Unit = s.intern(a.value)
		}
	}
	return st
}

func (s *Scanner) workoutRoute(t *token) WorkoutRoute {
	var r WorkoutRoute
	for _, a := range t.attrs {
		switch string(a.name) {
		case "sourceName":
			r.SourceName = s.intern(a.value)
		case "sourceVersion":
			r.SourceVersion = s.intern(a.value)
		case "device":
			r.Device = s.intern(a.value)
		case "creationDate":
			r.CreationDate = string(a.value)
		case "startDate":
			r.StartDate = string(a.value)
		case "endDate":
			r.EndDate = string(a.value)
		}
	}
	return r
}

func (s *Scanner) activitySummary(t *token) *ActivitySummary {
	a := &ActivitySummary{}
	for _, at := range t.attrs {
		v := string(at.value)
		switch string(at.name) {
		case "dateComponents":
			a.DateComponents = v
		case "activeEnergyBurned":
			a.ActiveEnergyBurned = v
		case "activeEnergyBurnedGoal":
			a.ActiveEnergyBurnedGoal = v
		case "activeEnergyBurnedUnit":
			a.ActiveEnergyBurnedUnit = v
		case "appleMoveTime":
			a.AppleMoveTime = v
		case "appleMoveTimeGoal":
			a.AppleMoveTimeGoal = v
		case "appleExerciseTime":
			a.AppleExerciseTime = v
		case "appleExerciseTimeGoal":
			a.AppleExerciseTimeGoal = v
		case "appleStandHours":
			a.AppleStandHours = v
		case "appleStandHoursGoal":
			a.AppleStandHoursGoal = v
		}
	}
	return a
}
