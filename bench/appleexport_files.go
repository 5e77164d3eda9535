package bench

import (
	"math"
	"strconv"
	"strings"
)

// The rest of an export: workouts with their children, activity summaries,
// clinical records, the DTD, and the zip's other files (export_cda.xml, GPX
// routes, FHIR resources).

func (e *exporter) workout(wk *exportWorkout) {
	e.seed(wk.day, tagWorkout+wk.index)
	k := wk.kind
	secs := wk.end - wk.start - wk.pauseFor
	dist := float64(secs) * k.speed * (0.9 + 0.2*e.rng.Float64()) // m
	kcal := float64(secs) / 3600 * k.mets * 62
	e.raw(` <Workout workoutActivityType="`)
	e.raw(k.activity)
	e.raw(`" duration="`)
	e.float(float64(secs) / 60)
	e.raw(`" durationUnit="min"`)
	// Exports of iOS 15 and before give the totals as attributes.
	if wk.start < e.base+120*86400 {
		if k.distance != "" {
			e.raw(` totalDistance="`)
			e.float(math.Round(dist/1.609344) / 1000)
			e.raw(`" totalDistanceUnit="mi"`)
		}
		e.raw(` totalEnergyBurned="`)
		e.float(math.Round(kcal*10) / 10)
		e.raw(`" totalEnergyBurnedUnit="Cal"`)
	}
	e.raw(srcWatch.attrs)
	e.raw(` creationDate="`)
	e.date(wk.end + 4)
	e.raw(`" startDate="`)
	e.date(wk.start)
	e.raw(`" endDate="`)
	e.date(wk.end)
	e.raw("\">\n")
	indoor := "0"
	if !k.outdoor {
		indoor = "1"
	}
	e.metadata("  ", "HKIndoorWorkout", indoor)
	e.metadata("  ", "HKTimeZone", e.zoneName(wk.start))
	if k.outdoor {
		e.metadata("  ", "HKElevationAscended", strconv.FormatInt(e.between(200, 9000), 10)+" cm")
		e.metadata("  ", "HKWeatherTemperature", strconv.FormatInt(e.between(28, 88), 10)+" degF")
		e.metadata("  ", "HKWeatherHumidity", strconv.FormatInt(e.between(25, 98)*100, 10)+" %")
	}
	e.metadata("  ", "HKAverageMETs", strconv.FormatFloat(k.mets+float64(e.between(-50, 50))/100, 'f', 5, 64)+" kcal/hr·kg")
	for t := wk.start; t+480 < wk.end; t += 480 {
		e.event("Segment", t, 8, "")
	}
	if wk.pause != 0 {
		e.event("Pause", wk.pause, 0, "")
		e.event("Resume", wk.pause+wk.pauseFor, 0, "")
	}
	if k == kindRunning {
		e.event("Lap", wk.start+60, 2, "400 m")
	}
	e.stat(wk, "HKQuantityTypeIdentifierActiveEnergyBurned", kcal, wk.kJ)
	e.stat(wk, typeBasal, float64(secs)*0.0185, false)
	if k.distance != "" {
		e.stat(wk, k.distance, dist, wk.km)
	}
	if k.steps {
		e.stat(wk, typeSteps, dist/0.72, false)
	}
	e.stat(wk, typeHeartRate, 0, false)
	if wk.route {
		e.raw(`  <WorkoutRoute`)
		e.raw(srcWatch.attrs)
		e.raw(` creationDate="`)
		e.date(wk.end + 9)
		e.raw(`" startDate="`)
		e.date(wk.start)
		e.raw(`" endDate="`)
		e.date(wk.end)
		e.raw("\">\n")
		e.metadata("   ", "HKMetadataKeySyncVersion", "2")
		e.metadata("   ", "HKMetadataKeySyncIdentifier", e.uuid())
		e.raw(`   <FileReference path="/workout-routes/`)
		e.raw(e.routeName(wk))
		e.raw("\"/>\n  </WorkoutRoute>\n")
		e.c.Routes++
	}
	e.raw(" </Workout>\n")
	e.c.Workouts++
}

func (e *exporter) event(typ string, at int64, minutes int64, lap string) {
	e.raw(`  <WorkoutEvent type="HKWorkoutEventType`)
	e.raw(typ)
	e.raw(`" date="`)
	e.date(at)
	if minutes == 0 {
		e.raw("\"/>\n")
		return
	}
	e.raw(`" duration="`)
	e.float(float64(minutes) + float64(e.between(0, 999))/1000)
	e.raw(`" durationUnit="min"`)
	if lap == "" {
		e.raw("/>\n")
		return
	}
	e.raw(">\n")
	e.metadata("   ", "HKLapLength", lap)
	e.raw("  </WorkoutEvent>\n")
}

// stat writes a WorkoutStatistics: energy in kcal (written as Cal or kJ),
// distance in m (as mi or km), a count, or the heart rate when typ says so.
func (e *exporter) stat(wk *exportWorkout, typ string, v float64, metric bool) {
	e.raw(`  <WorkoutStatistics type="`)
	e.raw(typ)
	e.raw(`" startDate="`)
	e.date(wk.start)
	e.raw(`" endDate="`)
	e.date(wk.end)
	unit := "count"
	switch typ {
	case typeHeartRate:
		lo, hi := int64(wk.kind.hr[0]), int64(wk.kind.hr[1])
		e.raw(`" average="`)
		e.float(float64(e.between(lo*100, hi*100)) / 100)
		e.raw(`" minimum="`)
		e.int(lo - e.between(0, 20))
		e.raw(`" maximum="`)
		e.int(hi + e.between(0, 8))
		e.raw(`" unit="count/min"/>` + "\n")
		return
	case typeSteps:
		v = math.Round(v)
	case typeDistance, typeCycling:
		unit, v = "mi", v/1609.344
		if metric {
			unit, v = "km", v*1.609344
		}
	default:
		unit = "Cal"
		if metric {
			unit, v = "kJ", v*4.184
		}
	}
	e.raw(`" sum="`)
	e.float(math.Round(v*10000) / 10000)
	e.raw(`" unit="`)
	e.raw(unit)
	e.raw("\"/>\n")
}

func (e *exporter) uuid() string {
	var id [16]byte
	for i := range id {
		id[i] = byte(e.rng.Uint32())
	}
	return string(appendUUID(nil, id, true))
}

// routeName is the GPX file of a workout's route, named by its local start:
// route_2023-06-01_7.12am.gpx.
func (e *exporter) routeName(wk *exportWorkout) string {
	local := wk.start + e.offset(wk.start)
	days := floorDiv(local, 86400)
	secs := local - days*86400
	y, m, d := civil(days)
	h, ampm := secs/3600, "am"
	if h >= 12 {
		ampm = "pm"
	}
	if h %= 12; h == 0 {
		h = 12
	}
	return "route_" + strconv.FormatInt(y, 10) + "-" + pad2(m) + "-" + pad2(d) + "_" +
		strconv.FormatInt(h, 10) + "." + pad2(secs/60%60) + ampm + ".gpx"
}

func pad2(v int64) string { return string([]byte{byte('0' + v/10), byte('0' + v%10)}) }

func (e *exporter) summary(d *exportDay) {
	e.seed(d.index, tagSummary)
	y, m, day := civil(floorDiv(d.start+e.offset(d.start), 86400))
	e.raw(` <ActivitySummary dateComponents="`)
	e.int(y)
	e.raw("-")
	e.two(m)
	e.raw("-")
	e.two(day)
	e.raw(`" activeEnergyBurned="`)
	e.dec(e.between(150000, 900000), 3)
	e.raw(`" activeEnergyBurnedGoal="600" activeEnergyBurnedUnit="Cal" appleMoveTime="0" appleMoveTimeGoal="0" appleExerciseTime="`)
	e.int(e.between(3, 95))
	e.raw(`" appleExerciseTimeGoal="30" appleStandHours="`)
	e.int(e.between(5, 16))
	e.raw("\" appleStandHoursGoal=\"12\"/>\n")
	e.c.Summaries++
}

func clinicalID(i int) string {
	return [...]string{"LabResult-3F2A9C01", "Immunization-77B1D0E4"}[i]
}

func (e *exporter) clinical(i int) {
	typ := [...]string{"HKClinicalTypeIdentifierLabResultRecord", "HKClinicalTypeIdentifierImmunizationRecord"}[i]
	e.raw(` <ClinicalRecord type="`)
	e.raw(typ)
	e.raw(`" identifier="`)
	e.raw(clinicalID(i))
	e.raw(`" sourceName="Charité – Universitätsmedizin Berlin" sourceURL="https://fhir.example.org/r4/" fhirVersion="4.0.1" receivedDate="`)
	e.date(e.midnight(0) + int64(i)*86400 + 11*3600)
	e.raw(`" resourceFilePath="/clinical-records/`)
	e.raw(clinicalID(i))
	e.raw(".json\"/>\n")
	e.c.Clinical++
}

func (e *exporter) writeClinicalJSON(i int) {
	e.raw(`{"resourceType":"` + [...]string{"Observation", "Immunization"}[i] + `","id":"` + clinicalID(i) + `","status":"final"}` + "\n")
}

// writeCDA writes export_cda.xml: the CDA header and the day's resting heart
// rate (the same draws as its Records) as vital signs.
func (e *exporter) writeCDA() {
	e.raw(`<?xml version="1.0"?>
<?xml-stylesheet type="text/xsl" href="CDA.xsl"?>
<ClinicalDocument xmlns="urn:hl7-org:v3" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="urn:hl7-org:v3 ../../../CDA%20R2/cda-schemas-and-samples/infrastructure/cda/CDA.xsd" xmlns:voc="urn:hl7-org:v3/voc" xmlns:sdtc="urn:hl7-org:sdtc" classCode="DOCCLIN" moodCode="EVN">
<realmCode code="US"/>
<typeId root="2.16.840.1.113883.1.3" extension="POCD_HD000040"/>
<title>Health Data</title>
<component><structuredBody><component><section><title>Vital Signs</title><entry><organizer classCode="CLUSTER" moodCode="EVN">
`)
	e.eachDay(func(d *exportDay) {
		e.seed(d.index, tagRestingHR)
		start := d.start + e.between(0, 900)
		e.raw(`<component><observation classCode="OBS" moodCode="EVN"><code code="40443-4" codeSystem="2.16.840.1.113883.6.1" displayName="HKQuantityTypeIdentifierRestingHeartRate"/><effectiveTime><low value="`)
		e.cdaTime(start)
		e.between(0, 3600)
		e.raw(`"/></effectiveTime><value xsi:type="PQ" value="`)
		e.int(e.between(52, 63))
		e.raw("\" unit=\"count/min\"/></observation></component>\n")
	})
	e.raw("</organizer></entry></section></component></structuredBody></component>\n</ClinicalDocument>\n")
}

func (e *exporter) cdaTime(u int64) {
	local := u + e.offset(u)
	days := floorDiv(local, 86400)
	secs := local - days*86400
	y, m, d := civil(days)
	e.int(y)
	e.two(m)
	e.two(d)
	e.two(secs / 3600)
	e.two(secs / 60 % 60)
	e.two(secs % 60)
}

// writeGPX writes a workout's route: a loop around home (or Tokyo), a point
// a second with Apple's extensions, times in UTC.
func (e *exporter) writeGPX(day *exportDay, wk *exportWorkout) {
	e.seed(day.index, tagRoute+wk.index)
	lat0, lon0 := 52.520008, 13.404954
	if e.offset(wk.start) == tripOff {
		lat0, lon0 = 35.681236, 139.767125
	}
	e.raw(`<?xml version="1.0" encoding="UTF-8"?>
<gpx version="1.1" creator="Apple Health Export" xmlns="http://www.topografix.com/GPX/1/1" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="http://www.topografix.com/GPX/1/1 http://www.topografix.com/GPX/1/1/gpx.xsd">
 <metadata>
  <time>`)
	e.utc(wk.start)
	e.raw("</time>\n </metadata>\n <trk>\n  <name>Route ")
	name := e.routeName(wk)
	e.raw(strings.ReplaceAll(name[len("route_"):len(name)-len(".gpx")], "_", " "))
	e.raw("</name>\n  <trkseg>\n")
	secs := wk.end - wk.start - wk.pauseFor
	radius := float64(secs) * wk.kind.speed / (2 * math.Pi) // m
	phase := e.rng.Float64() * 2 * math.Pi
	for i := range secs {
		t := wk.start + i
		if wk.pause != 0 && t >= wk.pause {
			t += wk.pauseFor
		}
		a := phase + 2*math.Pi*float64(i)/float64(secs)
		lat := lat0 + radius*math.Sin(a)/111320
		lon := lon0 + radius*math.Cos(a)/(111320*math.Cos(lat0*math.Pi/180))
		e.raw(`   <trkpt lon="`)
		e.buf = strconv.AppendFloat(e.buf, lon, 'f', 6, 64)
		e.raw(`" lat="`)
		e.buf = strconv.AppendFloat(e.buf, lat, 'f', 6, 64)
		e.raw(`"><ele>`)
		e.buf = strconv.AppendFloat(e.buf, 34+6*math.Sin(3*a), 'f', 6, 64)
		e.raw(`</ele><time>`)
		e.utc(t)
		e.raw(`</time><extensions><speed>`)
		e.buf = strconv.AppendFloat(e.buf, wk.kind.speed*(0.85+0.3*e.rng.Float64()), 'f', 6, 64)
		e.raw(`</speed><course>`)
		e.buf = strconv.AppendFloat(e.buf, math.Mod(450-a*180/math.Pi, 360), 'f', 6, 64)
		e.raw(`</course><hAcc>`)
		e.buf = strconv.AppendFloat(e.buf, 1+4*e.rng.Float64(), 'f', 6, 64)
		e.raw(`</hAcc><vAcc>`)
		e.buf = strconv.AppendFloat(e.buf, 1+3*e.rng.Float64(), 'f', 6, 64)
		e.raw("</vAcc></extensions></trkpt>\n")
		e.c.RoutePoints++
	}
	e.raw("  </trkseg>\n </trk>\n</gpx>\n")
}

func (e *exporter) utc(u int64) {
	days := floorDiv(u, 86400)
	secs := u - days*86400
	y, m, d := civil(days)
	e.int(y)
	e.buf = append(e.buf, '-')
	e.two(m)
	e.buf = append(e.buf, '-')
	e.two(d)
	e.buf = append(e.buf, 'T')
	e.two(secs / 3600)
	e.buf = append(e.buf, ':')
	e.two(secs / 60 % 60)
	e.buf = append(e.buf, ':')
	e.two(secs % 60)
	e.buf = append(e.buf, 'Z')
}

// exportHead is the start of export.xml up to HealthData's start tag: the
// DOCTYPE with the internal DTD of export version 14, as the Health app
// writes it.
const exportHead = `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE HealthData [
<!-- HealthKit Export Version: 14 -->
<!ELEMENT HealthData (ExportDate,Me,(Record|Correlation|Workout|ActivitySummary|ClinicalRecord|Audiogram|VisionPrescription)*)>
<!ATTLIST HealthData
  locale CDATA #REQUIRED
>
<!ELEMENT ExportDate EMPTY>
<!ATTLIST ExportDate
  value CDATA #REQUIRED
>
<!ELEMENT Me EMPTY>
<!ATTLIST Me
  HKCharacteristicTypeIdentifierDateOfBirth                 CDATA #REQUIRED
  HKCharacteristicTypeIdentifierBiologicalSex               CDATA #REQUIRED
  HKCharacteristicTypeIdentifierBloodType                   CDATA #REQUIRED
  HKCharacteristicTypeIdentifierFitzpatrickSkinType         CDATA #REQUIRED
  HKCharacteristicTypeIdentifierCardioFitnessMedicationsUse CDATA #REQUIRED
>
<!ELEMENT Record ((MetadataEntry|HeartRateVariabilityMetadataList)*)>
<!ATTLIST Record
  type          CDATA #REQUIRED
  unit          CDATA #IMPLIED
  value         CDATA #IMPLIED
  sourceName    CDATA #REQUIRED
  sourceVersion CDATA #IMPLIED
  device        CDATA #IMPLIED
  creationDate  CDATA #IMPLIED
  startDate     CDATA #REQUIRED
  endDate       CDATA #REQUIRED
>
<!-- Note: Any Records that appear as children of a correlation also appear as top-level records in this document. -->
<!ELEMENT Correlation ((MetadataEntry|Record)*)>
<!ATTLIST Correlation
  type          CDATA #REQUIRED
  sourceName    CDATA #REQUIRED
  sourceVersion CDATA #IMPLIED
  device        CDATA #IMPLIED
  creationDate  CDATA #IMPLIED
  startDate     CDATA #REQUIRED
  endDate       CDATA #REQUIRED
>
<!ELEMENT Workout ((MetadataEntry|WorkoutEvent|WorkoutRoute|WorkoutStatistics)*)>
<!ATTLIST Workout
  workoutActivityType   CDATA #REQUIRED
  duration              CDATA #IMPLIED
  durationUnit          CDATA #IMPLIED
  totalDistance         CDATA #IMPLIED
  totalDistanceUnit     CDATA #IMPLIED
  totalEnergyBurned     CDATA #IMPLIED
  totalEnergyBurnedUnit CDATA #IMPLIED
  sourceName            CDATA #REQUIRED
  sourceVersion         CDATA #IMPLIED
  device                CDATA #IMPLIED
  creationDate          CDATA #IMPLIED
  startDate             CDATA #REQUIRED
  endDate               CDATA #REQUIRED
>
<!ELEMENT WorkoutEvent (MetadataEntry?)>
<!ATTLIST WorkoutEvent
  type         CDATA #REQUIRED
  date         CDATA #REQUIRED
  duration     CDATA #IMPLIED
  durationUnit CDATA #IMPLIED
>
<!ELEMENT WorkoutStatistics EMPTY>
<!ATTLIST WorkoutStatistics
  type      CDATA #REQUIRED
  startDate CDATA #REQUIRED
  endDate   CDATA #REQUIRED
  average   CDATA #IMPLIED
  minimum   CDATA #IMPLIED
  maximum   CDATA #IMPLIED
  sum       CDATA #IMPLIED
  unit      CDATA #IMPLIED
>
<!ELEMENT WorkoutRoute ((MetadataEntry|FileReference)*)>
<!ATTLIST WorkoutRoute
  sourceName    CDATA #REQUIRED
  sourceVersion CDATA #IMPLIED
  device        CDATA #IMPLIED
  creationDate  CDATA #IMPLIED
  startDate     CDATA #REQUIRED
  endDate       CDATA #REQUIRED
>
<!ELEMENT FileReference EMPTY>
<!ATTLIST FileReference
  path CDATA #REQUIRED
>
<!ELEMENT ActivitySummary EMPTY>
<!ATTLIST ActivitySummary
  dateComponents         CDATA #IMPLIED
  activeEnergyBurned     CDATA #IMPLIED
  activeEnergyBurnedGoal CDATA #IMPLIED
  activeEnergyBurnedUnit CDATA #IMPLIED
  appleMoveTime          CDATA #IMPLIED
  appleMoveTimeGoal      CDATA #IMPLIED
  appleExerciseTime      CDATA #IMPLIED
  appleExerciseTimeGoal  CDATA #IMPLIED
  appleStandHours        CDATA #IMPLIED
  appleStandHoursGoal    CDATA #IMPLIED
>
<!ELEMENT MetadataEntry EMPTY>
<!ATTLIST MetadataEntry
  key   CDATA #REQUIRED
  value CDATA #REQUIRED
>
<!-- HeartRateVariabilityMetadataList contains a record of each heartbeat while recording a heart rate variability sample. -->
<!ELEMENT HeartRateVariabilityMetadataList (InstantaneousBeatsPerMinute*)>
<!ELEMENT InstantaneousBeatsPerMinute EMPTY>
<!ATTLIST InstantaneousBeatsPerMinute
  bpm  CDATA #REQUIRED
  time CDATA #REQUIRED
>
<!ELEMENT ClinicalRecord EMPTY>
<!ATTLIST ClinicalRecord
  type             CDATA #REQUIRED
  identifier       CDATA #REQUIRED
  sourceName       CDATA #REQUIRED
  sourceURL        CDATA #REQUIRED
  fhirVersion      CDATA #REQUIRED
  receivedDate     CDATA #REQUIRED
  resourceFilePath CDATA #REQUIRED
>
<!ELEMENT Audiogram ((SensitivityPoint)*)>
<!ATTLIST Audiogram
  type          CDATA #REQUIRED
  sourceName    CDATA #REQUIRED
  sourceVersion CDATA #IMPLIED
  device        CDATA #IMPLIED
  creationDate  CDATA #IMPLIED
  startDate     CDATA #REQUIRED
  endDate       CDATA #REQUIRED
>
<!ELEMENT SensitivityPoint EMPTY>
<!ATTLIST SensitivityPoint
  frequencyValue   CDATA #REQUIRED
  frequencyUnit    CDATA #REQUIRED
  leftEarValue     CDATA #IMPLIED
  leftEarUnit      CDATA #IMPLIED
  rightEarValue    CDATA #IMPLIED
  rightEarUnit     CDATA #IMPLIED
>
<!ELEMENT VisionPrescription ((RightEye|LeftEye|Attachment|MetadataEntry)*)>
<!ATTLIST VisionPrescription
  type             CDATA #REQUIRED
  dateIssued       CDATA #REQUIRED
  expirationDate   CDATA #IMPLIED
  brand            CDATA #IMPLIED
>
]>
<HealthData locale="en_US">
`
