package applehealth

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"math"
	"path"
	"strings"
)

// Limits bound what an export may make the reader do; zero fields take
// defaults.
type Limits struct {
	// MaxXMLBytes bounds export.xml, decompressed (or the whole file of a
	// bare export.xml). Default 64 GiB.
	MaxXMLBytes int64
	// MaxRatio bounds the size of an entry over its compressed size, against
	// zip bombs. Default 1000 (deflate cannot do much better than 1032:1, so
	// an honest entry never passes it).
	MaxRatio int64
	// MaxRouteBytes bounds one GPX file, decompressed. Default 64 MiB.
	MaxRouteBytes int64
	// MaxRoutePoints bounds the points of one route. Default 1<<20.
	MaxRoutePoints int
}

const (
	defaultMaxXMLBytes    = 64 << 30
	defaultMaxRatio       = 1000
	defaultMaxRouteBytes  = 64 << 20
	defaultMaxRoutePoints = 1 << 20
)

func (l Limits) withDefaults() Limits {
	if l.MaxXMLBytes <= 0 {
		l.MaxXMLBytes = defaultMaxXMLBytes
	}
	if l.MaxRatio <= 0 {
		l.MaxRatio = defaultMaxRatio
	}
	if l.MaxRouteBytes <= 0 {
		l.MaxRouteBytes = defaultMaxRouteBytes
	}
	if l.MaxRoutePoints <= 0 {
		l.MaxRoutePoints = defaultMaxRoutePoints
	}
	return l
}

// ExportError is an upload the reader refuses: neither a zip nor an XML
// file, a damaged or hostile zip, an entry over a limit. Entry is the zip
// entry concerned, if any; Err is what lies behind it (ErrTooLarge for an
// entry over a limit, the error of archive/zip or of the reader), or nil.
type ExportError struct {
	Entry  string
	Detail string
	Err    error
}

func (e *ExportError) Error() string {
	var b strings.Builder
	b.WriteString("applehealth: ")
	if e.Entry != "" {
		fmt.Fprintf(&b, "zip entry %q: ", printable([]byte(e.Entry)))
	}
	b.WriteString(e.Detail)
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

func (e *ExportError) Unwrap() error { return e.Err }

// ErrNoRoute is what Route returns when the export holds no GPX file of that
// name (always, for a bare export.xml).
var ErrNoRoute = errors.New("applehealth: no such workout route in the export")

// Export is an opened upload: the Health app's export.zip or a bare
// export.xml. It holds no open reader of its own; it is safe for concurrent
// use, the readers it returns are not.
//
// Entry names are only ever looked up, never used as paths: nothing of a zip
// is written to disk. Names that would escape a folder if they were (an
// absolute path, a ".." element, a backslash, a NUL, a drive letter) are
// ignored, as if the entry were not there.
type Export struct {
	r    io.ReaderAt
	size int64
	lim  Limits
	// For a zip: the entry of export.xml, the folder that holds it ("" at
	// the top), every file entry of a safe name, and the files of every
	// workout-routes folder by base name.
	xml    *zip.File
	root   string
	files  map[string]*zip.File
	routes map[string][]*zip.File
}

// zipMagic starts a zip (its first local file header); an empty zip is
// only an end of central directory.
const (
	zipMagic      = "PK\x03\x04"
	emptyZipMagic = "PK\x05\x06"
)

// OpenExport reads an upload of size bytes: a zip (by its magic bytes
// PK\x03\x04) or a bare export.xml (anything starting, after an optional
// UTF-8 BOM and white space, with '<'). Anything else, a zip with no
// export.xml or with two at the same depth, a damaged zip, and an export.xml
// that declares a size over lim, are an *ExportError.
func OpenExport(r io.ReaderAt, size int64, lim Limits) (*Export, error) {
	e := &Export{r: r, size: size, lim: lim.withDefaults()}
	var head [len(zipMagic)]byte
	n, err := r.ReadAt(head[:], 0)
	if n < len(head) && err != nil && err != io.EOF {
		return nil, &ExportError{Detail: "reading the upload", Err: err}
	}
	if string(head[:n]) == zipMagic {
		if err := e.openZip(); err != nil {
			return nil, err
		}
		return e, nil
	}
	if string(head[:n]) == emptyZipMagic {
		return nil, &ExportError{Detail: "the zip is empty"}
	}
	if err := startsWithTag(r, size); err != nil {
		return nil, err
	}
	if size > e.lim.MaxXMLBytes {
		return nil, &ExportError{Detail: fmt.Sprintf("export.xml of %d bytes is over %d", size, e.lim.MaxXMLBytes), Err: ErrTooLarge}
	}
	return e, nil
}

// startsWithTag checks that the upload is text starting with '<', after an
// optional BOM and white space.
func startsWithTag(r io.ReaderAt, size int64) error {
	br := io.NewSectionReader(r, 0, size)
	buf := make([]byte, 4096)
	for first := true; ; first = false {
		n, err := io.ReadFull(br, buf)
		chunk := buf[:n]
		if first {
			chunk = bytes.TrimPrefix(chunk, []byte("\xef\xbb\xbf"))
		}
		if rest := bytes.TrimLeft(chunk, " \t\r\n"); len(rest) > 0 {
			if rest[0] != '<' {
				return &ExportError{Detail: "the upload is neither a zip nor an XML file"}
			}
			return nil
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return &ExportError{Detail: "the upload is empty or only white space"}
		}
		if err != nil {
			return &ExportError{Detail: "reading the upload", Err: err}
		}
	}
}

func (e *Export) openZip() error {
	zr, err := zip.NewReader(e.r, e.size)
	if err != nil && !errors.Is(err, zip.ErrInsecurePath) {
		// A zip whose end is missing (an interrupted upload) fails here:
		// the central directory is at the end.
		return &ExportError{Detail: "the zip is damaged or truncated", Err: err}
	}
	// ErrInsecurePath (with GODEBUG zipinsecurepath=0) comes with a valid
	// reader; the names it objects to are ignored below anyway.
	e.files = make(map[string]*zip.File, len(zr.File))
	e.routes = make(map[string][]*zip.File)
	var found []*zip.File // the export.xml entries at the shallowest depth
	ignored := 0
	for _, f := range zr.File {
		if strings.HasSuffix(f.Name, "/") {
			continue // a folder
		}
		if !safeName(f.Name) {
			ignored++
			continue
		}
		e.files[f.Name] = f
		dir, base := path.Split(f.Name)
		if path.Base(dir) == "workout-routes" {
			e.routes[base] = append(e.routes[base], f)
		}
		if base != "export.xml" {
			continue
		}
		switch {
		case len(found) == 0 || depth(f.Name) < depth(found[0].Name):
			found = append(found[:0], f)
		case depth(f.Name) == depth(found[0].Name):
			found = append(found, f)
		}
	}
	switch len(found) {
	case 0:
		return &ExportError{Detail: "no export.xml in the zip; " + foundNames(zr.File, ignored)}
	case 1:
	default:
		return &ExportError{Detail: fmt.Sprintf("two export.xml at the same depth, %q and %q: which one is the export is unclear",
			printable([]byte(found[0].Name)), printable([]byte(found[1].Name)))}
	}
	e.xml = found[0]
	if dir := path.Dir(e.xml.Name); dir != "." {
		e.root = dir
	}
	return checkEntry(e.xml, e.lim.MaxXMLBytes, e.lim.MaxRatio)
}

// safeName reports whether a zip entry's name is one that would stay inside
// the folder it was extracted to: relative, with no "." or ".." or empty
// element, no backslash (the zip format's separator is '/', but a Windows
// tool would split on it), no NUL and no drive letter.
func safeName(name string) bool {
	if name == "" || strings.ContainsAny(name, "\\\x00") || len(name) >= 2 && name[1] == ':' {
		return false
	}
	if name[0] == '/' {
		return false
	}
	for elem := range strings.SplitSeq(name, "/") {
		if elem == "" || elem == "." || elem == ".." {
			return false
		}
	}
	return true
}

func depth(name string) int { return strings.Count(name, "/") }

// foundNames describes what a zip with no export.xml holds, for its error.
func foundNames(files []*zip.File, ignored int) string {
	var names []string
	for _, f := range files {
		if len(names) == 5 {
			break
		}
		if safeName(strings.TrimSuffix(f.Name, "/")) {
			names = append(names, fmt.Sprintf("%q", printable([]byte(f.Name))))
		}
	}
	var b strings.Builder
	switch {
	case len(files) == 0:
		b.WriteString("the zip is empty")
	case len(names) == 0:
		b.WriteString("it holds no entry of a safe name")
	default:
		fmt.Fprintf(&b, "it holds %d entries: %s", len(files), strings.Join(names, ", "))
		if len(files) > len(names) {
			b.WriteString(", ...")
		}
	}
	if ignored > 0 {
		fmt.Fprintf(&b, " (%d ignored for names that escape the archive)", ignored)
	}
	return b.String()
}

// checkEntry refuses an entry the reader cannot or will not decompress: an
// encrypted one, a method other than store and deflate, or a declared size
// over max or over ratio times the compressed size. Since the entry's reader
// then stops at the declared size, these bounds hold whatever the entry's
// data does.
func checkEntry(f *zip.File, max, ratio int64) error {
	switch {
	case f.Flags&0x1 != 0:
		return &ExportError{Entry: f.Name, Detail: "the entry is encrypted"}
	case f.Method != zip.Store && f.Method != zip.Deflate:
		return &ExportError{Entry: f.Name, Detail: fmt.Sprintf("compression method %d is not supported (only store and deflate)", f.Method)}
	case f.UncompressedSize64 > uint64(max):
		return &ExportError{Entry: f.Name, Detail: fmt.Sprintf("declares %d bytes, over the limit of %d", f.UncompressedSize64, max), Err: ErrTooLarge}
	case f.UncompressedSize64 > ratioLimit(f.CompressedSize64, ratio):
		return &ExportError{Entry: f.Name, Detail: fmt.Sprintf("declares %d bytes from %d compressed, over %d:1 (a zip bomb?)",
			f.UncompressedSize64, f.CompressedSize64, ratio), Err: ErrTooLarge}
	}
	return nil
}

// ratioLimit is compressed × ratio, saturating.
func ratioLimit(compressed uint64, ratio int64) uint64 {
	if compressed > math.MaxUint64/uint64(ratio) {
		return math.MaxUint64
	}
	return compressed * uint64(ratio)
}

// Zipped reports whether the upload is a zip rather than a bare export.xml.
func (e *Export) Zipped() bool { return e.xml != nil }

// XMLSize is the size export.xml declares (the file's size for a bare
// export), for progress.
func (e *Export) XMLSize() int64 {
	if e.xml == nil {
		return e.size
	}
	return int64(e.xml.UncompressedSize64)
}

// XML opens export.xml: the whole file for a bare export; for a zip, its
// entry decompressed as it is read (nothing is buffered beyond the
// decompressor's window). The reader of a zip entry fails once the entry
// passes the size the zip declares (which OpenExport checked against
// MaxXMLBytes and MaxRatio: errors.Is(err, ErrTooLarge)), and when it ends
// short of it or its checksum is wrong. Every call returns a new reader from
// the start, so an import can start over after a restart.
func (e *Export) XML() (io.ReadCloser, error) {
	if e.xml == nil {
		return io.NopCloser(io.NewSectionReader(e.r, 0, e.size)), nil
	}
	return openEntry(e.xml)
}

// Route reads the GPX file a WorkoutRoute names (FilePath as written in
// export.xml, such as /workout-routes/route_2023-06-01_7.12am.gpx) and
// returns its points. The path is taken relative to the folder of
// export.xml; failing that, a file of the same base name in any
// workout-routes folder is taken if there is only one. It returns an error
// wrapping ErrNoRoute when the export has no such file (always for a bare
// export.xml), and an *ExportError for a file over MaxRouteBytes or
// MaxRoutePoints (ErrTooLarge), damaged or not a GPX file.
func (e *Export) Route(filePath string) ([]RoutePoint, error) {
	f, err := e.routeFile(filePath)
	if err != nil {
		return nil, err
	}
	if err := checkEntry(f, e.lim.MaxRouteBytes, e.lim.MaxRatio); err != nil {
		return nil, err
	}
	rc, err := openEntry(f)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	points, err := ReadGPX(rc, e.lim.MaxRoutePoints)
	if err != nil {
		if ee, ok := errors.AsType[*ExportError](err); ok {
			return nil, ee // the entry's own error, naming it
		}
		return nil, &ExportError{Entry: f.Name, Detail: "reading the route", Err: err}
	}
	return points, nil
}

func (e *Export) routeFile(filePath string) (*zip.File, error) {
	if e.xml == nil {
		return nil, fmt.Errorf("%w: %q (a bare export.xml has no routes)", ErrNoRoute, printable([]byte(filePath)))
	}
	// Strip the leading '/', clean, and refuse what still leaves the
	// export's folder ("..") or is no file name at all.
	name := path.Clean(strings.TrimLeft(filePath, "/"))
	if !safeName(name) {
		return nil, fmt.Errorf("%w: %q is not a path inside the export", ErrNoRoute, printable([]byte(filePath)))
	}
	if f, ok := e.files[path.Join(e.root, name)]; ok {
		return f, nil
	}
	switch fs := e.routes[path.Base(name)]; len(fs) {
	case 0:
		return nil, fmt.Errorf("%w: %q", ErrNoRoute, printable([]byte(filePath)))
	case 1:
		return fs[0], nil
	default:
		return nil, &ExportError{Detail: fmt.Sprintf("route %q: %d workout-routes folders hold a file of that name (%q, %q...)",
			printable([]byte(filePath)), len(fs), printable([]byte(fs[0].Name)), printable([]byte(fs[1].Name)))}
	}
}

// openEntry opens f, which checkEntry accepted, decompressing it as it is
// read.
func openEntry(f *zip.File) (io.ReadCloser, error) {
	raw, err := f.OpenRaw()
	if err != nil {
		return nil, &ExportError{Entry: f.Name, Detail: "the zip is damaged", Err: err}
	}
	r := &entryReader{f: f, crc: crc32.NewIEEE(), src: raw}
	if f.Method == zip.Deflate {
		r.inflate = flate.NewReader(raw)
		r.src = r.inflate
	}
	return r, nil
}

// entryReader reads a zip entry and checks it against what the zip says of
// it: no byte past the declared size (a lying header is a bomb's way past
// the ratio), no end before it, the right checksum. archive/zip's own reader
// checks the same, but its errors would not say which happened.
type entryReader struct {
	f       *zip.File
	src     io.Reader
	inflate io.ReadCloser // nil for a stored entry
	crc     hash.Hash32
	n       uint64 // bytes given so far
	err     error  // sticky
}

func (r *entryReader) Read(p []byte) (int, error) {
	if r.err != nil {
		return 0, r.err
	}
	// Ask for at most one byte past the declared size: enough to see that
	// the entry is longer, never much more.
	if left := r.f.UncompressedSize64 - r.n + 1; uint64(len(p)) > left {
		p = p[:left]
	}
	n, err := r.src.Read(p)
	r.n += uint64(n)
	if r.n > r.f.UncompressedSize64 {
		r.err = &ExportError{Entry: r.f.Name, Detail: fmt.Sprintf("inflates past the %d bytes its header declares (a zip bomb?)", r.f.UncompressedSize64), Err: ErrTooLarge}
		return n - 1, r.err
	}
	r.crc.Write(p[:n])
	switch {
	case err == io.EOF && r.n < r.f.UncompressedSize64:
		r.err = &ExportError{Entry: r.f.Name, Detail: fmt.Sprintf("ends after %d of the %d bytes its header declares", r.n, r.f.UncompressedSize64)}
		return n, r.err
	case err == io.EOF && r.f.CRC32 != 0 && r.crc.Sum32() != r.f.CRC32:
		// Like archive/zip, a zero CRC is taken for one left unset.
		r.err = &ExportError{Entry: r.f.Name, Detail: "checksum mismatch: the entry is damaged", Err: zip.ErrChecksum}
		return n, r.err
	case err != nil && err != io.EOF:
		// A flate.CorruptInputError, io.ErrUnexpectedEOF from a cut
		// stream, or the upload's own read error.
		r.err = &ExportError{Entry: r.f.Name, Detail: "the compressed data is damaged or truncated", Err: err}
		return n, r.err
	}
	if err == io.EOF {
		r.err = io.EOF
	}
	return n, err
}

// Close releases the decompressor.
func (r *entryReader) Close() error {
	if r.err == nil {
		r.err = errors.New("applehealth: read of a closed zip entry")
	}
	if r.inflate != nil {
		return r.inflate.Close()
	}
	return nil
}
