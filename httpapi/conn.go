package httpapi

import (
	"bytes"
	"crypto/tls"
	"errors"
	"net"
	"strconv"
)

// errBareLF refuses a request whose header block ends in bare line feeds.
// fasthttp accepts a bare LF between header lines but waits for the CRLF
// CRLF that ends a header block: a request written with LF alone (a
// hand-written client, printf into a socket) would hang until the read
// timeout. framedConn sees it and fails the read, which fasthttp answers
// at once with 400 (transportError) and a closed connection.
var errBareLF = errors.New("httpapi: request header block ends in a bare LF")

// framedListener hands out framedConns.
type framedListener struct{ net.Listener }

func (l framedListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	if tc, ok := c.(*tls.Conn); ok {
		return &framedTLSConn{framedConn: framedConn{Conn: c}, tls: tc}, nil
	}
	return &framedConn{Conn: c}, nil
}

// framedTLSConn is a framedConn over TLS. It keeps the TLS methods that
// fasthttp looks for (RequestCtx.IsTLS, TLSConnectionState), which the
// wrapping would otherwise hide.
type framedTLSConn struct {
	framedConn
	tls      *tls.Conn
	answered bool // a plain HTTP request was told to use https
}

func (c *framedTLSConn) ConnectionState() tls.ConnectionState { return c.tls.ConnectionState() }

// framedConn follows the HTTP/1.1 framing of what a client sends (header
// blocks, then bodies of a Content-Length or in chunks) only far enough to
// know where each header block ends, and fails the next read after one
// that ends in a bare LF. Bodies of a known length are skipped by count;
// anything it cannot follow (a malformed length, which fasthttp refuses
// anyway) turns it off for the rest of the connection.
//
// It is used by one goroutine at a time, as fasthttp reads a connection.
type framedConn struct {
	net.Conn
	state     frameState
	line      []byte // the current header or chunk-size line, bounded
	lineLen   int    // its length, even past what line keeps
	last      byte   // the last byte of the current line so far
	started   bool   // the block's request line has been seen
	prevBare  bool   // the previous header line ended in a bare LF
	length    int64  // Content-Length of the block being read
	chunked   bool
	remaining int64 // body or chunk bytes still to skip
	failed    bool  // a block ended in a bare LF: refuse the next read
}

type frameState uint8

const (
	inHeaders   frameState = iota
	inBody                 // skipping a body of known length
	inChunkSize            // reading a chunk-size line
	inChunk                // skipping chunk data
	inChunkEnd             // the CRLF after chunk data
	inTrailers             // the trailer lines after the last chunk
	untracked              // framing not followed any more
)

// maxTrackedLine is the most of one line that is kept to be read; header
// lines are only looked at for Content-Length and Transfer-Encoding.
const maxTrackedLine = 256

// CloseWrite shuts the sending side when the connection below can.
func (c *framedConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

func (c *framedConn) Read(p []byte) (int, error) {
	if c.failed {
		return 0, errBareLF
	}
	n, err := c.Conn.Read(p)
	if n > 0 && c.state != untracked {
		c.follow(p[:n])
	}
	return n, err
}

func (c *framedConn) follow(b []byte) {
	for len(b) > 0 {
		switch c.state {
		case inBody, inChunk:
			skip := min(int64(len(b)), c.remaining)
			c.remaining -= skip
			b = b[skip:]
			if c.remaining == 0 {
				if c.state == inBody {
					c.state = inHeaders
				} else {
					c.state = inChunkEnd
				}
			}
		case inChunkEnd:
			// CR LF (a bare LF is tolerated here as fasthttp does).
			if b[0] == '\n' {
				c.state = inChunkSize
			}
			b = b[1:]
		case untracked:
			return
		default: // a line: headers, a chunk size, trailers
			i := bytes.IndexByte(b, '\n')
			if i < 0 {
				c.keep(b)
				return
			}
			c.keep(b[:i])
			b = b[i+1:]
			c.endLine()
		}
	}
}

func (c *framedConn) keep(b []byte) {
	if len(b) == 0 {
		return
	}
	if room := maxTrackedLine - len(c.line); room > 0 {
		c.line = append(c.line, b[:min(len(b), room)]...)
	}
	c.lineLen += len(b)
	c.last = b[len(b)-1]
}

// endLine handles one line that ended in LF: c.line holds its start, c.last
// its last byte before the LF.
func (c *framedConn) endLine() {
	bareLF := c.lineLen == 0 || c.last != '\r'
	empty := c.lineLen == 0 || (c.lineLen == 1 && !bareLF)
	line := c.line
	if !bareLF && len(line) == c.lineLen {
		line = line[:len(line)-1] // the CR
	}
	c.line, c.lineLen, c.last = c.line[:0], 0, 0

	switch c.state {
	case inHeaders:
		if empty {
			if !c.started {
				return // blank lines before a request line are skipped
			}
			c.endBlock(bareLF)
			return
		}
		c.started = true
		c.prevBare = bareLF
		c.header(line)
	case inChunkSize:
		if i := bytes.IndexAny(line, "; \t"); i >= 0 {
			line = line[:i]
		}
		size, err := strconv.ParseInt(string(line), 16, 64)
		switch {
		case err != nil || size < 0:
			c.state = untracked
		case size == 0:
			c.state = inTrailers
		default:
			c.state, c.remaining = inChunk, size
		}
	case inTrailers:
		if empty {
			c.reset()
		}
	}
}

func (c *framedConn) header(line []byte) {
	k, v, ok := bytes.Cut(line, []byte(":"))
	if !ok {
		return // the request line
	}
	k, v = bytes.TrimSpace(k), bytes.TrimSpace(v)
	switch {
	case bytes.EqualFold(k, []byte("Content-Length")):
		n, err := strconv.ParseInt(string(v), 10, 64)
		if err != nil || n < 0 {
			c.state = untracked
			return
		}
		c.length = n
	case bytes.EqualFold(k, []byte("Transfer-Encoding")):
		if bytes.Contains(bytes.ToLower(v), []byte("chunked")) {
			c.chunked = true
		}
	}
}

// endBlock is the blank line after the header lines.
func (c *framedConn) endBlock(bareLF bool) {
	if bareLF || c.prevBare {
		// fasthttp waits for CRLF CRLF and would never see it.
		c.failed = true
		c.state = untracked
		return
	}
	switch {
	case c.chunked:
		c.reset()
		c.state = inChunkSize
	case c.length > 0:
		n := c.length
		c.reset()
		c.state, c.remaining = inBody, n
	default:
		c.reset()
	}
}

func (c *framedConn) reset() {
	c.state, c.length, c.chunked, c.prevBare, c.started = inHeaders, 0, false, false, false
}
