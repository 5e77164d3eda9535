// Package applehealth reads the Health app's export (export.zip or a bare
// export.xml, and the GPX files of its workout routes: export.go, gpx.go,
// gpxscan.go) into typed values: pure, bytes in and validated items out,
// like codec. It stores nothing and imports nothing of ours.
//
// Scanner is a streaming reader of export.xml written for the one regular
// format the Health app writes, not a general XML parser: it holds one
// bounded read buffer and at most one start tag of MaxToken bytes, whatever
// the size of the file. It skips the DOCTYPE and its internal DTD without
// reading the declarations, so it expands only the five predefined entities
// and numeric character references (an entity declared in the DTD is an
// error where it is used: no billion laughs). It checks that tags nest and
// that the file ends where the root element ends, so a truncated file is an
// error, never a silently short import.
package applehealth

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"unicode/utf8"
)

// Limits of the scanner: what a hostile file can make it hold.
const (
	// MaxToken bounds one start tag with its attributes, and the DOCTYPE.
	MaxToken = 1 << 20
	// MaxDepth bounds the nesting of elements.
	MaxDepth = 64
	// MaxChildren bounds the children kept with one Record or Workout.
	MaxChildren = 1 << 16
	// readBuffer is the size of the read buffer; a tag that does not fit is
	// gathered into a second buffer of at most MaxToken bytes.
	readBuffer = 64 << 10
	// maxInterned bounds the table of repeated strings (types, sources,
	// units, devices, metadata keys) that items share.
	maxInterned  = 4096
	maxInternLen = 512
)

// Error is a malformed or hostile export: the scan cannot go on. Offset is
// the byte offset in the file where the scanner found the problem.
type Error struct {
	Offset int64
	Detail string
	limit  bool
}

// Unwrap gives ErrTooLarge for an input over a limit.
func (e *Error) Unwrap() error {
	if e.limit {
		return ErrTooLarge
	}
	return nil
}

func (e *Error) Error() string {
	return fmt.Sprintf("applehealth: export.xml at byte %d: %s", e.Offset, e.Detail)
}

// ErrTooLarge is what errors.Is finds in the Error of a tag over MaxToken, a nesting over
// MaxDepth or an item with more than MaxChildren children.
var ErrTooLarge = errors.New("over a limit")

type tokenKind uint8

const (
	startTag tokenKind = iota + 1
	endTag
)

type attr struct {
	name, value []byte
}

// token is one start or end tag. Its slices point into the scanner's buffers
// and stay valid until the next call of next.
type token struct {
	kind        tokenKind
	name        []byte
	attrs       []attr
	selfClosing bool
}

// Scanner reads export.xml from an io.Reader. Items it returns own their
// strings (copied or shared with other items, never pointing into the
// scanner's buffers), so they stay valid after the next call of Next.
type Scanner struct {
	r        *bufio.Reader
	off      int64 // bytes consumed
	tok      token
	attrs    []attr
	gather   []byte // a tag that did not fit in the read buffer
	stack    []byte // names of the open elements, end to end
	stackEnd []int
	pending  bool // a self-closing tag to pop before the next token
	rootSeen bool
	doctype  bool
	err      error
	interned map[string]string
}

// NewScanner returns a scanner of r. It reads r through its own buffer.
func NewScanner(r io.Reader) *Scanner {
	return &Scanner{
		r:        bufio.NewReaderSize(r, readBuffer),
		interned: make(map[string]string),
	}
}

// Offset is the number of bytes of the file the scanner has consumed, for
// progress.
func (s *Scanner) Offset() int64 { return s.off }

func (s *Scanner) errorf(format string, args ...any) error {
	return &Error{Offset: s.off, Detail: fmt.Sprintf(format, args...)}
}

func (s *Scanner) tooLarge(format string, args ...any) error {
	return &Error{Offset: s.off, Detail: fmt.Sprintf(format, args...) + ": " + ErrTooLarge.Error(), limit: true}
}

// depth is the number of open elements.
func (s *Scanner) depth() int { return len(s.stackEnd) }

// next returns the next start or end tag, skipping text, comments,
// processing instructions, CDATA and the DOCTYPE. A self-closing tag counts
// as open until the call after it. At the clean end of the file it returns
// io.EOF. Errors are sticky.
func (s *Scanner) next() (*token, error) {
	if s.err != nil {
		return nil, s.err
	}
	t, err := s.scan()
	if err != nil {
		s.err = err
		return nil, err
	}
	return t, nil
}

func (s *Scanner) scan() (*token, error) {
	if s.pending {
		s.pop()
		s.pending = false
	}
	for {
		if err := s.skipText(); err != nil {
			return nil, err
		}
		c, err := s.readByte()
		if err != nil {
			return nil, s.unexpectedEOF(err)
		}
		switch c {
		case '/':
			return s.endTag()
		case '?':
			if err := s.skipUntil("?>"); err != nil {
				return nil, err
			}
		case '!':
			if err := s.markup(); err != nil {
				return nil, err
			}
		default:
			if err := s.r.UnreadByte(); err != nil {
				return nil, err
			}
			s.off--
			return s.startTag()
		}
	}
}

func (s *Scanner) readByte() (byte, error) {
	c, err := s.r.ReadByte()
	if err == nil {
		s.off++
	}
	return c, err
}

// unexpectedEOF turns the end of the input into the error it means here.
func (s *Scanner) unexpectedEOF(err error) error {
	if err != io.EOF {
		return err
	}
	if s.depth() > 0 {
		return s.errorf("file ends inside <%s>: the export is truncated", s.stack[s.openStart():])
	}
	return s.errorf("file ends inside a tag: the export is truncated")
}

// skipText reads up to and including the next '<'. Text inside the root is
// ignored; outside it only white space is allowed. At the end of the file it
// returns io.EOF if the root element has been read whole.
func (s *Scanner) skipText() error {
	for {
		chunk, err := s.r.ReadSlice('<')
		s.off += int64(len(chunk))
		if s.depth() == 0 {
			text := chunk
			if err == nil {
				text = chunk[:len(chunk)-1]
			}
			if !s.rootSeen && s.off == int64(len(chunk)) {
				text = bytes.TrimPrefix(text, []byte("\xef\xbb\xbf"))
			}
			if len(bytes.TrimLeft(text, " \t\r\n")) > 0 {
				return s.errorf("text outside the root element: not an export.xml")
			}
		}
		switch {
		case err == nil:
			return nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case err == io.EOF && s.depth() == 0:
			if !s.rootSeen {
				return s.errorf("no HealthData element: not an export.xml")
			}
			return io.EOF
		case err == io.EOF:
			return s.unexpectedEOF(err)
		default:
			return err
		}
	}
}

// skipUntil reads up to and including term, keeping only its last bytes.
func (s *Scanner) skipUntil(term string) error {
	tail := make([]byte, 0, 2*len(term))
	for {
		chunk, err := s.r.ReadSlice(term[len(term)-1])
		s.off += int64(len(chunk))
		tail = append(tail, chunk[max(0, len(chunk)-len(term)):]...)
		if len(tail) > len(term) {
			tail = append(tail[:0], tail[len(tail)-len(term):]...)
		}
		if err == nil && string(tail) == term {
			return nil
		}
		if err != nil && !errors.Is(err, bufio.ErrBufferFull) {
			return s.unexpectedEOF(err)
		}
	}
}

// markup handles what follows "<!": a comment, CDATA or the DOCTYPE.
func (s *Scanner) markup() error {
	head, err := s.r.Peek(2)
	if err != nil {
		return s.unexpectedEOF(err)
	}
	if string(head) == "--" {
		s.discard(2)
		return s.skipUntil("-->")
	}
	if head[0] == '[' {
		if p, err := s.r.Peek(7); err == nil && string(p) == "[CDATA[" && s.depth() > 0 {
			s.discard(7)
			return s.skipUntil("]]>")
		}
	}
	if p, err := s.r.Peek(7); err == nil && string(p) == "DOCTYPE" && !s.rootSeen && !s.doctype {
		s.discard(7)
		s.doctype = true
		return s.skipDoctype()
	}
	return s.errorf("unexpected markup <!%s", printable(head))
}

func (s *Scanner) discard(n int) {
	d, _ := s.r.Discard(n)
	s.off += int64(d)
}

// skipDoctype reads the rest of the DOCTYPE, its internal subset included,
// without interpreting a declaration: quoted strings and comments may hold
// brackets and '>'. It stops at MaxToken bytes.
func (s *Scanner) skipDoctype() error {
	var quote byte
	inSubset, inComment := false, false
	var last [3]byte
	for n := 0; ; n++ {
		if n > MaxToken {
			return s.tooLarge("DOCTYPE over %d bytes", MaxToken)
		}
		c, err := s.readByte()
		if err != nil {
			return s.unexpectedEOF(err)
		}
		last[0], last[1], last[2] = last[1], last[2], c
		switch {
		case inComment:
			if last == [3]byte{'-', '-', '>'} {
				inComment = false
				last = [3]byte{}
			}
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
		case inSubset && c == '-' && last[1] == '-' && last[0] == '!':
			inComment = true
			last = [3]byte{}
		case c == '[' && !inSubset:
			inSubset = true
		case c == ']' && inSubset:
			inSubset = false
		case c == '>' && !inSubset:
			return nil
		}
	}
}

// endTag reads "name>" after "</" and closes the open element of that name.
func (s *Scanner) endTag() (*token, error) {
	raw, err := s.r.ReadSlice('>')
	s.off += int64(len(raw))
	if err != nil {
		if errors.Is(err, bufio.ErrBufferFull) {
			return nil, s.tooLarge("end tag over %d bytes", readBuffer)
		}
		return nil, s.unexpectedEOF(err)
	}
	name := bytes.TrimRight(raw[:len(raw)-1], " \t\r\n")
	if s.depth() == 0 {
		return nil, s.errorf("end tag </%s> with no open element", printable(name))
	}
	if open := s.stack[s.openStart():]; !bytes.Equal(open, name) {
		return nil, s.errorf("end tag </%s> closes <%s>", printable(name), open)
	}
	s.tok = token{kind: endTag, name: name}
	s.pop()
	return &s.tok, nil
}

func (s *Scanner) openStart() int {
	if len(s.stackEnd) < 2 {
		return 0
	}
	return s.stackEnd[len(s.stackEnd)-2]
}

func (s *Scanner) pop() {
	s.stack = s.stack[:s.openStart()]
	s.stackEnd = s.stackEnd[:len(s.stackEnd)-1]
}

// startTag reads a start tag up to its '>' outside quotes (an attribute
// value may hold '>'), parses its name and attributes and opens it.
func (s *Scanner) startTag() (*token, error) {
	raw, err := s.readTag()
	if err != nil {
		return nil, err
	}
	t := &s.tok
	*t = token{kind: startTag, attrs: s.attrs[:0]}
	body := raw[:len(raw)-1]
	if n := len(body); n > 0 && body[n-1] == '/' {
		t.selfClosing = true
		body = body[:n-1]
	}
	i := 0
	for i < len(body) && !isSpace(body[i]) {
		i++
	}
	t.name = body[:i]
	if !validName(t.name) {
		return nil, s.errorf("bad element name %q", printable(t.name))
	}
	for {
		for i < len(body) && isSpace(body[i]) {
			i++
		}
		if i == len(body) {
			break
		}
		start := i
		for i < len(body) && body[i] != '=' && !isSpace(body[i]) {
			i++
		}
		name := body[start:i]
		for i < len(body) && isSpace(body[i]) {
			i++
		}
		if !validName(name) || i == len(body) || body[i] != '=' {
			return nil, s.errorf("bad attribute in <%s>", printable(t.name))
		}
		i++
		for i < len(body) && isSpace(body[i]) {
			i++
		}
		if i == len(body) || (body[i] != '"' && body[i] != '\'') {
			return nil, s.errorf("attribute %s of <%s> is not quoted", name, t.name)
		}
		q := body[i]
		end := bytes.IndexByte(body[i+1:], q)
		if end < 0 {
			return nil, s.errorf("attribute %s of <%s> is not closed", name, t.name)
		}
		value, err := unescape(body[i+1 : i+1+end])
		if err != nil {
			return nil, s.errorf("attribute %s of <%s>: %v", name, t.name, err)
		}
		i += end + 2
		if i < len(body) && !isSpace(body[i]) {
			return nil, s.errorf("no space after attribute %s of <%s>", name, t.name)
		}
		t.attrs = append(t.attrs, attr{name: name, value: value})
	}
	s.attrs = t.attrs
	if s.depth() == 0 {
		if s.rootSeen {
			return nil, s.errorf("a second root element <%s>", t.name)
		}
		if string(t.name) != "HealthData" {
			return nil, s.errorf("root element is <%s>, not <HealthData>: not an export.xml", printable(t.name))
		}
		s.rootSeen = true
	}
	if s.depth() >= MaxDepth {
		return nil, s.tooLarge("elements nested deeper than %d", MaxDepth)
	}
	s.stack = append(s.stack, t.name...)
	s.stackEnd = append(s.stackEnd, len(s.stack))
	s.pending = t.selfClosing
	return t, nil
}

// readTag returns the bytes of a tag up to and including the '>' that ends
// it. They point into the read buffer when the tag fits in it, into gather
// otherwise, and stay valid until the next read.
func (s *Scanner) readTag() ([]byte, error) {
	var quote byte
	gathered := false
	s.gather = s.gather[:0]
	for {
		chunk, err := s.r.ReadSlice('>')
		s.off += int64(len(chunk))
		if err != nil && !errors.Is(err, bufio.ErrBufferFull) {
			return nil, s.unexpectedEOF(err)
		}
		for _, c := range chunk {
			switch {
			case quote != 0:
				if c == quote {
					quote = 0
				}
			case c == '"' || c == '\'':
				quote = c
			}
		}
		done := err == nil && quote == 0
		if done && !gathered {
			return chunk, nil
		}
		if len(s.gather)+len(chunk) > MaxToken {
			return nil, s.tooLarge("a tag over %d bytes", MaxToken)
		}
		s.gather = append(s.gather, chunk...)
		gathered = true
		if done {
			return s.gather, nil
		}
	}
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// validName accepts the names the format uses: a letter or '_' then letters,
// digits, '_', '-', '.' or ':' (and any non-ASCII byte, as XML allows).
func validName(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	for i, c := range b {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c == '_', c == ':', c >= 0x80:
		case i > 0 && (c >= '0' && c <= '9' || c == '-' || c == '.'):
		default:
			return false
		}
	}
	return true
}

// unescape replaces the predefined entities and character references of b in
// place (the result is never longer) and refuses any other entity.
func unescape(b []byte) ([]byte, error) {
	amp := bytes.IndexByte(b, '&')
	if amp < 0 {
		if bytes.IndexByte(b, '<') >= 0 {
			return nil, errors.New("'<' in a value")
		}
		return b, nil
	}
	w := amp
	for r := amp; r < len(b); {
		c := b[r]
		if c == '<' {
			return nil, errors.New("'<' in a value")
		}
		if c != '&' {
			b[w] = c
			w++
			r++
			continue
		}
		semi := bytes.IndexByte(b[r:min(len(b), r+12)], ';')
		if semi < 0 {
			return nil, errors.New("'&' that starts no entity")
		}
		name := b[r+1 : r+semi]
		r += semi + 1
		switch string(name) {
		case "lt":
			b[w] = '<'
		case "gt":
			b[w] = '>'
		case "amp":
			b[w] = '&'
		case "quot":
			b[w] = '"'
		case "apos":
			b[w] = '\''
		default:
			ch, ok := charRef(name)
			if !ok {
				return nil, fmt.Errorf("entity &%s; is not one of XML's own (entities of the DTD are never expanded)", printable(name))
			}
			w += utf8.EncodeRune(b[w:], ch)
			continue
		}
		w++
	}
	return b[:w], nil
}

// charRef decodes "#123" or "#x7B" into a rune XML allows.
func charRef(name []byte) (rune, bool) {
	if len(name) < 2 || name[0] != '#' {
		return 0, false
	}
	digits, base := name[1:], rune(10)
	if digits[0] == 'x' {
		digits, base = digits[1:], 16
	}
	if len(digits) == 0 || len(digits) > 8 {
		return 0, false
	}
	var r rune
	for _, c := range digits {
		var d rune
		switch {
		case c >= '0' && c <= '9':
			d = rune(c - '0')
		case base == 16 && c >= 'a' && c <= 'f':
			d = rune(c-'a') + 10
		case base == 16 && c >= 'A' && c <= 'F':
			d = rune(c-'A') + 10
		default:
			return 0, false
		}
		r = r*base + d
	}
	ok := r == 0x9 || r == 0xA || r == 0xD || r >= 0x20 && r <= 0xD7FF ||
		r >= 0xE000 && r <= 0xFFFD || r >= 0x10000 && r <= 0x10FFFF
	return r, ok
}

// printable shortens a piece of hostile input for an error and escapes what
// is not printable.
func printable(b []byte) string {
	q := strconv.Quote(string(b[:min(len(b), 40)]))
	return q[1 : len(q)-1]
}
