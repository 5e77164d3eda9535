package httpapi

import (
	"bytes"
	"crypto/tls"
	"errors"
	"net"
	"testing"
	"time"
)

// scriptConn is a net.Conn whose reads return the given pieces in order.
type scriptConn struct {
	net.Conn
	pieces [][]byte
}

func (c *scriptConn) Read(p []byte) (int, error) {
	if len(c.pieces) == 0 {
		return 0, errors.New("end of script")
	}
	n := copy(p, c.pieces[0])
	if n == len(c.pieces[0]) {
		c.pieces = c.pieces[1:]
	} else {
		c.pieces[0] = c.pieces[0][n:]
	}
	return n, nil
}

func (c *scriptConn) SetReadDeadline(time.Time) error { return nil }

// followAll feeds b to a framedConn in pieces of at most size bytes and
// reports whether it came to refuse the connection.
func followAll(b []byte, size int) bool {
	var pieces [][]byte
	for len(b) > 0 {
		n := min(size, len(b))
		pieces = append(pieces, b[:n])
		b = b[n:]
	}
	c := &framedConn{Conn: &scriptConn{pieces: pieces}}
	buf := make([]byte, 64<<10)
	for {
		if _, err := c.Read(buf); err != nil {
			return errors.Is(err, errBareLF)
		}
	}
}

func TestFramedConnFollowsRequests(t *testing.T) {
	for _, tc := range []struct {
		name   string
		stream string
		refuse bool
	}{
		{"one request", "GET / HTTP/1.1\r\nHost: x\r\n\r\n", false},
		{"bare LF block", "GET / HTTP/1.1\nHost: x\n\n", true},
		{"bare LF then CRLF blank", "GET / HTTP/1.1\r\nHost: x\n\r\n", true},
		{"CRLF then bare LF blank", "GET / HTTP/1.1\r\nHost: x\r\n\n", true},
		{"bare LF inside, CRLF CRLF end", "GET / HTTP/1.1\nHost: x\r\n\r\n", false},
		{"a body of blank lines, then a request", "POST / HTTP/1.1\r\nContent-Length: 6\r\n\r\n\n\n\n\n\n\nGET / HTTP/1.1\r\n\r\n", false},
		{"a chunked body of blank lines", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n4\r\n\n\n\n\n\r\n0\r\n\r\nGET / HTTP/1.1\r\n\r\n", false},
		{"chunk extensions and trailers", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2;x=y\r\nab\r\n0\r\nX-T: 1\r\n\r\nGET / HTTP/1.1\nA: b\n\n", true},
		{"the second request bare", "GET / HTTP/1.1\r\n\r\nGET / HTTP/1.1\n\n", true},
		{"a bad length stops following", "POST / HTTP/1.1\r\nContent-Length: x\r\n\r\n\n\n", false},
		{"leading blank lines", "\r\n\nGET / HTTP/1.1\r\n\r\n", false},
	} {
		for _, size := range []int{1, 2, 3, 7, 64 << 10} {
			if got := followAll([]byte(tc.stream), size); got != tc.refuse {
				t.Errorf("%s, pieces of %d: refused %v, want %v", tc.name, size, got, tc.refuse)
			}
		}
	}
}

// FuzzFramedConn: whatever a client sends, following it never panics, and
// the verdict does not depend on how the bytes are split across reads.
func FuzzFramedConn(f *testing.F) {
	f.Add([]byte("GET / HTTP/1.1\nHost: x\n\n"), uint8(1))
	f.Add([]byte("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n4\r\n\n\n\n\n\r\n0\r\n\r\n"), uint8(3))
	f.Add([]byte("POST / HTTP/1.1\r\nContent-Length: 3\r\n\r\n\n\n\nGET / HTTP/1.1\r\n\r\n"), uint8(2))
	f.Fuzz(func(t *testing.T, b []byte, size uint8) {
		whole := followAll(bytes.Clone(b), len(b)+1)
		if split := followAll(bytes.Clone(b), int(size)+1); split != whole {
			t.Fatalf("refused %v in pieces of %d, %v whole", split, int(size)+1, whole)
		}
	})
}

func FuzzCheckRawPath(f *testing.F) {
	for _, s := range []string{"/api/v1/users/x%2F..%2Fvictim", "/a/./b", "/a%2e%2e/b", "/ada%40example.org/sync", "/%zz"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, path string) {
		if checkRawPath([]byte(path)) != nil {
			return
		}
		// Accepted: no segment, decoded, is a dot segment or holds a slash.
		for _, seg := range bytes.Split([]byte(path), []byte("/")) {
			if i := bytes.IndexByte(seg, '?'); i >= 0 {
				break
			}
			if string(seg) == "." || string(seg) == ".." || bytes.Contains(seg, []byte("%2f")) || bytes.Contains(seg, []byte("%2F")) {
				t.Fatalf("accepted %q", path)
			}
		}
	})
}

// fasthttp tells TLS connections by their methods (RequestCtx.IsTLS): the
// framing follower must not hide them, nor lend them to plain ones.
func TestFramedListenerKeepsTLSVisible(t *testing.T) {
	type tlsConn interface {
		Handshake() error
		ConnectionState() tls.ConnectionState
	}
	var plain net.Conn = &framedConn{}
	if _, ok := plain.(tlsConn); ok {
		t.Error("a plain connection looks like TLS")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	fl := framedListener{tls.NewListener(ln, &tls.Config{})}
	go func() {
		if c, err := net.Dial("tcp", ln.Addr().String()); err == nil {
			c.Close()
		}
	}()
	c, err := fl.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, ok := c.(tlsConn); !ok {
		t.Errorf("a TLS connection is hidden as %T", c)
	}
}
