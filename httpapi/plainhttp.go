package httpapi

import (
	"crypto/tls"
	"errors"
	"time"
)

// plainHTTPAnswer is what a client that speaks plain HTTP to the TLS port
// is told, instead of a dropped connection: the usual mistake of an
// http:// URL in an SDK's host setting.
const plainHTTPAnswer = "HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nConnection: close\r\n" +
	"Content-Length: 78\r\n\r\n" +
	`{"detail":"This port serves HTTPS: use an https:// URL to reach this server."}`

// Read is framedConn's, but answers plain HTTP sent before a handshake.
func (c *framedTLSConn) Read(p []byte) (int, error) {
	n, err := c.framedConn.Read(p)
	if err != nil {
		c.answerPlainHTTP(err)
	}
	return n, err
}

// Handshake is the TLS handshake, answering plain HTTP as Read does.
func (c *framedTLSConn) Handshake() error {
	err := c.tls.Handshake()
	if err != nil {
		c.answerPlainHTTP(err)
	}
	return err
}

// answerPlainHTTP writes the 400 to a connection whose first bytes were an
// HTTP request line rather than a TLS record (crypto/tls hands the raw
// connection back in the error for exactly this), as net/http does.
func (c *framedTLSConn) answerPlainHTTP(err error) {
	var rh tls.RecordHeaderError
	if !errors.As(err, &rh) || rh.Conn == nil || c.answered || !looksLikeHTTP(rh.RecordHeader[:]) {
		return
	}
	c.answered = true
	rh.Conn.SetWriteDeadline(time.Now().Add(time.Second))
	rh.Conn.Write([]byte(plainHTTPAnswer))
	rh.Conn.Close()
}

// looksLikeHTTP: the five bytes crypto/tls read as a record header start
// with an upper-case method ("GET /", "POST ", "PUT /", "HEAD ").
func looksLikeHTTP(b []byte) bool {
	for _, m := range []string{"GET /", "POST ", "PUT /", "HEAD ", "DELET", "PATCH", "OPTIO"} {
		if string(b) == m {
			return true
		}
	}
	return false
}
