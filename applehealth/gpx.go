package applehealth

import (
	"encoding/xml"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
)

// maxGPXText bounds the text of one field of a point; a longer one is taken
// for missing.
const maxGPXText = 64

// readGPXXML reads the points of a workout route, a GPX 1.1 file as the
// Health app writes it:
//
//	<gpx ...><trk><name>...</name><trkseg>
//	 <trkpt lon="-0.1" lat="51.5"><ele>12.3</ele><time>2023-06-01T06:12:03Z</time>
//	  <extensions><speed>2.9</speed><course>183.4</course><hAcc>3.2</hAcc><vAcc>2.1</vAcc></extensions>
//	 </trkpt>...
//
// The points of every trkseg of every trk come in file order. A field the
// point lacks, or that is not a finite number (a time in RFC 3339 form), is
// NaN (zero for Time); a point with no valid lat and lon is skipped. Element
// names are matched without their namespace.
//
// The file is read with encoding/xml, strictly: it must be well formed, with
// a gpx root. It expands only XML's predefined entities and character
// references, so an entity a DTD declares is an error where it is used (no
// billion laughs). More than maxPoints points (≤ 0: the default of
// Limits.MaxRoutePoints) is an error wrapping ErrTooLarge. r is not bounded
// here: the caller limits the bytes (Export.Route stops at MaxRouteBytes).
func readGPXXML(r io.Reader, maxPoints int) ([]RoutePoint, error) {
	if maxPoints <= 0 {
		maxPoints = defaultMaxRoutePoints
	}
	g := gpxReader{d: xml.NewDecoder(r), maxPoints: maxPoints}
	g.d.Strict = true
	if err := g.read(); err != nil {
		return nil, err
	}
	return g.points, nil
}

type gpxReader struct {
	d         *xml.Decoder
	maxPoints int
	points    []RoutePoint
	stack     []string // local names of the open elements
	rootSeen  bool
	// The point being read: the depth of its trkpt (0 outside one), and the
	// text of the innermost element since it opened.
	pointDepth   int
	point        RoutePoint
	text         []byte
	textOverflow bool
}

func (g *gpxReader) errorf(format string, args ...any) error {
	line, col := g.d.InputPos()
	return fmt.Errorf("applehealth: gpx at line %d, column %d: %s", line, col, fmt.Sprintf(format, args...))
}

func (g *gpxReader) read() error {
	for {
		tok, err := g.d.Token()
		if err == io.EOF {
			if !g.rootSeen {
				return g.errorf("no gpx element: not a GPX file")
			}
			return nil
		}
		if err != nil {
			// A syntax error (with its line), the reader's error, or an
			// entity that is not XML's own.
			return fmt.Errorf("applehealth: gpx: %w", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if err := g.start(t); err != nil {
				return err
			}
		case xml.EndElement:
			if err := g.end(); err != nil {
				return err
			}
		case xml.CharData:
			if g.pointDepth > 0 && !g.textOverflow {
				if len(g.text)+len(t) > maxGPXText {
					g.textOverflow = true
				} else {
					g.text = append(g.text, t...)
				}
			}
		}
	}
}

func (g *gpxReader) start(t xml.StartElement) error {
	name := t.Name.Local
	if len(g.stack) == 0 {
		if g.rootSeen {
			return g.errorf("a second root element <%s>", printable([]byte(name)))
		}
		if name != "gpx" {
			return g.errorf("root element is <%s>, not <gpx>: not a GPX file", printable([]byte(name)))
		}
		g.rootSeen = true
	}
	if len(g.stack) >= MaxDepth {
		return fmt.Errorf("applehealth: gpx: elements nested deeper than %d: %w", MaxDepth, ErrTooLarge)
	}
	parent := ""
	if len(g.stack) > 0 {
		parent = g.stack[len(g.stack)-1]
	}
	g.stack = append(g.stack, name)
	g.text, g.textOverflow = g.text[:0], false
	if g.pointDepth > 0 || name != "trkpt" || parent != "trkseg" {
		return nil
	}
	g.pointDepth = len(g.stack)
	g.point = RoutePoint{
		Latitude: math.NaN(), Longitude: math.NaN(), Elevation: math.NaN(),
		Speed: math.NaN(), Course: math.NaN(), HorizontalAccuracy: math.NaN(), VerticalAccuracy: math.NaN(),
	}
	for _, a := range t.Attr {
		switch a.Name.Local {
		case "lat":
			g.point.Latitude = parseNumber(a.Value)
		case "lon":
			g.point.Longitude = parseNumber(a.Value)
		}
	}
	return nil
}

func (g *gpxReader) end() error {
	depth := len(g.stack)
	name := g.stack[depth-1]
	g.stack = g.stack[:depth-1]
	if g.pointDepth == 0 {
		return nil
	}
	text := ""
	if !g.textOverflow {
		text = string(g.text)
	}
	g.text, g.textOverflow = g.text[:0], false
	p := &g.point
	switch rel := depth - g.pointDepth; {
	case rel == 0:
		g.pointDepth = 0
		if math.Abs(p.Latitude) > 90 || math.Abs(p.Longitude) > 180 || math.IsNaN(p.Latitude) || math.IsNaN(p.Longitude) {
			return nil // no position: skipped
		}
		if len(g.points) == g.maxPoints {
			return fmt.Errorf("applehealth: gpx: more than %d points: %w", g.maxPoints, ErrTooLarge)
		}
		g.points = append(g.points, *p)
	case rel == 1 && name == "ele":
		p.Elevation = parseNumber(text)
	case rel == 1 && name == "time":
		p.Time, _ = time.Parse(time.RFC3339Nano, strings.TrimSpace(text))
	case rel >= 2 && g.stack[g.pointDepth] == "extensions":
		switch name {
		case "speed":
			p.Speed = parseNumber(text)
		case "course":
			p.Course = parseNumber(text)
		case "hAcc":
			p.HorizontalAccuracy = parseNumber(text)
		case "vAcc":
			p.VerticalAccuracy = parseNumber(text)
		}
	}
	return nil
}

// parseNumber parses a decimal number, NaN if s is not a finite one.
func parseNumber(s string) float64 {
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || math.IsInf(f, 0) {
		return math.NaN()
	}
	return f
}

// ReadGPX reads a route as readGPXXML documents it, with scanGPX, which
// agrees with readGPXXML on every file that one accepts (but refuses a
// DOCTYPE), four times faster; readGPXXML is kept as its reference.
func ReadGPX(r io.Reader, maxPoints int) ([]RoutePoint, error) { return scanGPX(r, maxPoints) }
