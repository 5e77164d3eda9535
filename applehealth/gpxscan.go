package applehealth

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"math"
	"strconv"
	"time"
)

// scanGPX reads a route as ReadGPX documents it, with a scanner of its own
// rather than encoding/xml's tokenizer, which costs more than everything
// else in an import put together (routes are a third of a real export):
// it keeps one read buffer, the names of the open elements and the text of
// the field being read (at most maxGPXText bytes), allocates nothing per
// element, and agrees with the encoding/xml reader on every file that
// reader accepts (TestGPXScannerAgrees, FuzzGPXScanner). It is stricter
// about one thing: a DOCTYPE is an error, since a route has no use for one.
func scanGPX(r io.Reader, maxPoints int) ([]RoutePoint, error) {
	if maxPoints <= 0 {
		maxPoints = defaultMaxRoutePoints
	}
	g := &gpxScanner{br: bufio.NewReaderSize(r, 32<<10), maxPoints: maxPoints}
	if err := g.run(); err != nil {
		return nil, err
	}
	return g.points, nil
}

// maxGPXTag bounds one tag of a GPX file, with its attributes.
const maxGPXTag = 64 << 10

// gpxField is what an element is to the scanner.
type gpxField uint8

const (
	gOther gpxField = iota
	gTrkseg
	gTrkpt
	gExtensions
	gEle
	gTime
	gSpeed
	gCourse
	gHAcc
	gVAcc
)

type gpxScanner struct {
	br        *bufio.Reader
	off       int64
	maxPoints int
	points    []RoutePoint
	// The open elements: their names, one after another in names, ending
	// at ends[i], and what each is.
	names    []byte
	ends     []int
	fields   []gpxField
	rootSeen bool
	// The point being read, as in gpxReader.
	pointDepth   int
	point        RoutePoint
	text         []byte
	textOverflow bool
	tag          []byte
}

func (g *gpxScanner) errorf(format string, args ...any) error {
	return fmt.Errorf("applehealth: gpx at byte %d: %s", g.off, fmt.Sprintf(format, args...))
}

func (g *gpxScanner) run() error {
	for {
		if err := g.readText(); err == io.EOF {
			if !g.rootSeen {
				return g.errorf("no gpx element: not a GPX file")
			}
			if len(g.ends) > 0 {
				return g.errorf("the file ends inside <%s>: it is truncated", printable(g.name(len(g.ends)-1)))
			}
			return nil
		} else if err != nil {
			return err
		}
		c, err := g.readByte()
		if err != nil {
			return g.eof(err)
		}
		switch c {
		case '?':
			if err := g.skipPast("?>"); err != nil {
				return err
			}
		case '!':
			if err := g.markup(); err != nil {
				return err
			}
		case '/':
			if err := g.endTag(); err != nil {
				return err
			}
		default:
			if err := g.br.UnreadByte(); err != nil {
				return err
			}
			g.off--
			if err := g.startTag(); err != nil {
				return err
			}
		}
	}
}

func (g *gpxScanner) eof(err error) error {
	if err == io.EOF {
		return g.errorf("the file ends inside a tag: it is truncated")
	}
	return err
}

func (g *gpxScanner) readByte() (byte, error) {
	c, err := g.br.ReadByte()
	if err == nil {
		g.off++
	}
	return c, err
}

// readText reads up to and past the next '<', keeping the text when it is
// a field's. io.EOF when the file ends first.
func (g *gpxScanner) readText() error {
	keep := g.pointDepth > 0
	for {
		chunk, err := g.br.ReadSlice('<')
		g.off += int64(len(chunk))
		body := chunk
		if err == nil {
			body = chunk[:len(chunk)-1]
		}
		if keep {
			if err := g.addText(body); err != nil {
				return err
			}
		}
		switch err {
		case nil:
			return nil
		case bufio.ErrBufferFull:
			continue
		case io.EOF:
			return io.EOF
		default:
			return err
		}
	}
}

func (g *gpxScanner) addText(b []byte) error {
	if g.textOverflow || len(b) == 0 {
		return nil
	}
	if bytes.IndexByte(b, '&') >= 0 {
		u, err := unescape(b)
		if err != nil {
			return g.errorf("%v", err)
		}
		b = u
	}
	if len(g.text)+len(b) > maxGPXText {
		g.textOverflow = true
		return nil
	}
	g.text = append(g.text, b...)
	return nil
}

// markup reads what follows "<!": a comment, a CDATA section (text), a
// DOCTYPE, which is refused, or another directive, skipped.
func (g *gpxScanner) markup() error {
	head, err := g.br.Peek(7)
	switch {
	case bytes.HasPrefix(head, []byte("--")):
		g.br.Discard(2)
		g.off += 2
		return g.skipPast("-->")
	case bytes.HasPrefix(head, []byte("[CDATA[")):
		g.br.Discard(7)
		g.off += 7
		return g.cdata()
	case bytes.HasPrefix(head, []byte("DOCTYPE")):
		return g.errorf("a DOCTYPE in a GPX file is not read")
	case err != nil && len(head) == 0:
		return g.eof(err)
	}
	return g.directive()
}

// directive skips another <!...> to its '>', as encoding/xml does: quoted
// strings and nested <...> are skipped whole.
func (g *gpxScanner) directive() error {
	depth := 0
	var quote byte
	for {
		c, err := g.readByte()
		if err != nil {
			return g.eof(err)
		}
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
		case c == '<':
			depth++
		case c == '>':
			if depth == 0 {
				return nil
			}
			depth--
		}
	}
}

// cdata reads a CDATA section to its "]]>"; its text is taken as it is,
// without entities.
func (g *gpxScanner) cdata() error {
	var win [3]byte
	n := 0
	keep := g.pointDepth > 0 && !g.textOverflow
	start := len(g.text)
	for {
		c, err := g.readByte()
		if err != nil {
			return g.eof(err)
		}
		n++
		win[0], win[1], win[2] = win[1], win[2], c
		if n >= 3 && string(win[:]) == "]]>" {
			break
		}
		if keep && len(g.text) < start+maxGPXText+2 {
			g.text = append(g.text, c)
		}
	}
	if !keep {
		return nil
	}
	// The "]]" before the '>' was taken as text.
	body := n - 3
	if start+body > maxGPXText {
		g.textOverflow = true
		return nil
	}
	g.text = g.text[:start+body]
	return nil
}

// skipPast reads up to and past term.
func (g *gpxScanner) skipPast(term string) error {
	matched := 0
	for {
		c, err := g.readByte()
		if err != nil {
			return g.eof(err)
		}
		switch {
		case c == term[matched]:
			if matched++; matched == len(term) {
				return nil
			}
		case c == term[0]:
			matched = 1
		default:
			matched = 0
		}
	}
}

// readTag reads a tag's bytes after '<' (or "</") up to its '>', which is
// not included; a '>' inside a quoted attribute value does not end it.
func (g *gpxScanner) readTag() ([]byte, error) {
	g.tag = g.tag[:0]
	var quote byte
	for {
		chunk, err := g.br.ReadSlice('>')
		g.off += int64(len(chunk))
		for _, c := range chunk {
			switch {
			case quote != 0:
				if c == quote {
					quote = 0
				}
			case c == '"' || c == '\'':
				quote = c
			case c == '<':
				return nil, g.errorf("'<' inside a tag")
			}
		}
		if len(g.tag)+len(chunk) > maxGPXTag {
			return nil, fmt.Errorf("applehealth: gpx at byte %d: a tag longer than %d bytes: %w", g.off, maxGPXTag, ErrTooLarge)
		}
		g.tag = append(g.tag, chunk...)
		switch {
		case err == bufio.ErrBufferFull:
		case err != nil:
			return nil, g.eof(err)
		case quote == 0:
			return g.tag[:len(g.tag)-1], nil
		}
	}
}

func (g *gpxScanner) name(i int) []byte {
	start := 0
	if i > 0 {
		start = g.ends[i-1]
	}
	return g.names[start:g.ends[i]]
}

// localName is a name without its namespace prefix.
func localName(b []byte) []byte {
	if i := bytes.IndexByte(b, ':'); i >= 0 {
		return b[i+1:]
	}
	return b
}

func fieldOf(local []byte) gpxField {
	switch string(local) {
	case "trkseg":
		return gTrkseg
	case "trkpt":
		return gTrkpt
	case "extensions":
		return gExtensions
	case "ele":
		return gEle
	case "time":
		return gTime
	case "speed":
		return gSpeed
	case "course":
		return gCourse
	case "hAcc":
		return gHAcc
	case "vAcc":
		return gVAcc
	}
	return gOther
}

func splitName(tag []byte) (name, rest []byte) {
	i := 0
	for i < len(tag) && !isSpace(tag[i]) && tag[i] != '/' {
		i++
	}
	return tag[:i], tag[i:]
}

func (g *gpxScanner) startTag() error {
	tag, err := g.readTag()
	if err != nil {
		return err
	}
	selfClosing := len(tag) > 0 && tag[len(tag)-1] == '/'
	if selfClosing {
		tag = tag[:len(tag)-1]
	}
	name, attrs := splitName(tag)
	if !validName(name) {
		return g.errorf("a start tag without a valid name")
	}
	local := localName(name)
	depth := len(g.ends)
	if depth == 0 {
		if g.rootSeen {
			return g.errorf("a second root element <%s>", printable(local))
		}
		if string(local) != "gpx" {
			return g.errorf("root element is <%s>, not <gpx>: not a GPX file", printable(local))
		}
		g.rootSeen = true
	}
	if depth >= MaxDepth {
		return fmt.Errorf("applehealth: gpx: elements nested deeper than %d: %w", MaxDepth, ErrTooLarge)
	}
	f := fieldOf(local)
	parent := gOther
	if depth > 0 {
		parent = g.fields[depth-1]
	}
	g.names = append(g.names, name...)
	g.ends = append(g.ends, len(g.names))
	g.fields = append(g.fields, f)
	g.text, g.textOverflow = g.text[:0], false
	if g.pointDepth == 0 && f == gTrkpt && parent == gTrkseg {
		g.pointDepth = len(g.ends)
		g.point = RoutePoint{
			Latitude: math.NaN(), Longitude: math.NaN(), Elevation: math.NaN(),
			Speed: math.NaN(), Course: math.NaN(), HorizontalAccuracy: math.NaN(), VerticalAccuracy: math.NaN(),
		}
		if err := g.pointAttrs(attrs); err != nil {
			return err
		}
	} else if err := checkAttrs(attrs); err != nil {
		return g.errorf("%v", err)
	}
	if selfClosing {
		return g.pop()
	}
	return nil
}

// pointAttrs reads a trkpt's lat and lon.
func (g *gpxScanner) pointAttrs(b []byte) error {
	return eachAttr(b, func(name, value []byte) error {
		switch string(localName(name)) {
		case "lat":
			g.point.Latitude = parseNumberBytes(value)
		case "lon":
			g.point.Longitude = parseNumberBytes(value)
		}
		return nil
	})
}

func checkAttrs(b []byte) error { return eachAttr(b, func(_, _ []byte) error { return nil }) }

// eachAttr calls fn for each name="value" of a tag's attributes, values
// unescaped.
func eachAttr(b []byte, fn func(name, value []byte) error) error {
	for {
		for len(b) > 0 && isSpace(b[0]) {
			b = b[1:]
		}
		if len(b) == 0 {
			return nil
		}
		eq := bytes.IndexByte(b, '=')
		if eq <= 0 {
			return fmt.Errorf("an attribute without a value")
		}
		name := bytes.TrimRight(b[:eq], " \t\r\n")
		if !validName(name) {
			return fmt.Errorf("an attribute without a valid name")
		}
		b = bytes.TrimLeft(b[eq+1:], " \t\r\n")
		if len(b) == 0 || (b[0] != '"' && b[0] != '\'') {
			return fmt.Errorf("an attribute value without quotes")
		}
		end := bytes.IndexByte(b[1:], b[0])
		if end < 0 {
			return fmt.Errorf("an unterminated attribute value")
		}
		value := b[1 : 1+end]
		if bytes.IndexByte(value, '&') >= 0 {
			u, err := unescape(value)
			if err != nil {
				return err
			}
			value = u
		}
		if err := fn(name, value); err != nil {
			return err
		}
		b = b[2+end:] // encoding/xml does not ask for space before the next one
	}
}

func (g *gpxScanner) endTag() error {
	tag, err := g.readTag()
	if err != nil {
		return err
	}
	name := bytes.TrimRight(tag, " \t\r\n")
	depth := len(g.ends)
	if depth == 0 {
		return g.errorf("an end tag </%s> with no element open", printable(name))
	}
	if !bytes.Equal(name, g.name(depth-1)) {
		return g.errorf("</%s> closes <%s>", printable(name), printable(g.name(depth-1)))
	}
	return g.pop()
}

// pop closes the innermost element: a field's text is taken, a point is
// kept, as gpxReader.end does.
func (g *gpxScanner) pop() error {
	depth := len(g.ends)
	f := g.fields[depth-1]
	start := 0
	if depth > 1 {
		start = g.ends[depth-2]
	}
	g.names, g.ends, g.fields = g.names[:start], g.ends[:depth-1], g.fields[:depth-1]
	if g.pointDepth == 0 {
		return nil
	}
	text := g.text
	if g.textOverflow {
		text = nil
	}
	defer func() { g.text, g.textOverflow = g.text[:0], false }()
	p := &g.point
	switch rel := depth - g.pointDepth; {
	case rel == 0:
		g.pointDepth = 0
		if math.Abs(p.Latitude) > 90 || math.Abs(p.Longitude) > 180 || math.IsNaN(p.Latitude) || math.IsNaN(p.Longitude) {
			return nil
		}
		if len(g.points) == g.maxPoints {
			return fmt.Errorf("applehealth: gpx: more than %d points: %w", g.maxPoints, ErrTooLarge)
		}
		g.points = append(g.points, *p)
	case rel == 1 && f == gEle:
		p.Elevation = parseNumberBytes(text)
	case rel == 1 && f == gTime:
		p.Time, _ = time.Parse(time.RFC3339Nano, string(bytes.TrimSpace(text)))
	case rel >= 2 && g.fields[g.pointDepth] == gExtensions:
		switch f {
		case gSpeed:
			p.Speed = parseNumberBytes(text)
		case gCourse:
			p.Course = parseNumberBytes(text)
		case gHAcc:
			p.HorizontalAccuracy = parseNumberBytes(text)
		case gVAcc:
			p.VerticalAccuracy = parseNumberBytes(text)
		}
	}
	return nil
}

// parseNumberBytes is parseNumber of b, without a string allocation.
func parseNumberBytes(b []byte) float64 {
	f, err := strconv.ParseFloat(string(bytes.TrimSpace(b)), 64)
	if err != nil || math.IsInf(f, 0) {
		return math.NaN()
	}
	return f
}
