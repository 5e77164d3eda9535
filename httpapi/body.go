package httpapi

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"math/bits"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zlib"
	"github.com/klauspost/compress/zstd"
	"github.com/valyala/fasthttp"

	"wearhouse/codec"
)

// Request bodies are streamed (fasthttp's StreamRequestBody): the server
// reads a request's line and headers, and at most 8 KiB of its body, before
// a handler runs. Each handler decides the credentials, the user, the scope
// and (on the write routes) its admission from those alone, and only then
// reads the body with readBody, which holds no byte it has not counted:
// the body grows in chunks, decompressed on the fly, and each growth is
// charged to the request's admission (ingest.Admission) before it is
// allocated. A refused request's body is never read: what the client still
// sends is discarded without being kept (lingerClose).
const (
	// controlBodyLimit bounds the bodies of the routes that take a small
	// JSON document (users, API keys, applications), read once the
	// request's credential is known.
	controlBodyLimit = 16 << 10
	// credentialBodyLimit bounds the bodies read before any credential is
	// known, because they carry it: application credentials, refresh
	// tokens. 2,048 connections holding one each hold 8 MiB.
	credentialBodyLimit = 4 << 10
	// firstChunk is the capacity a body of unknown size starts with; it
	// doubles as it fills.
	firstChunk = 64 << 10
	// firstKnownChunk is the most of a body of known size that is taken at
	// once, before any of it has arrived.
	firstKnownChunk = 1 << 20
	// zstdWindow is the largest zstd window accepted (RFC 8878 asks HTTP
	// encoders to stay within 8 MB); a frame asking for more is 413. The
	// decoder's history is charged at this size.
	zstdWindow = 8 << 20
	// inflateState is what a gzip or deflate decoder holds, charged as
	// such: its 32 KiB window, its tables and its read buffer.
	inflateState = 64 << 10
	// pooledBodyCap is the largest body buffer kept for reuse, so that
	// one large request does not pin its buffer.
	pooledBodyCap = 4 << 20
)

// bodyProgress is what readBody learnt of a request's body, kept on the
// request so that the answer to a refused request knows how much of the
// body is still on the wire.
type bodyProgress struct {
	read int  // bytes of the body as sent (compressed) read so far
	done bool // the body was read to its end
}

const bodyProgressKey = "wearhouse.body"

func progressOf(ctx *fasthttp.RequestCtx) *bodyProgress {
	if p, ok := ctx.UserValue(bodyProgressKey).(*bodyProgress); ok {
		return p
	}
	p := &bodyProgress{}
	ctx.SetUserValue(bodyProgressKey, p)
	return p
}

var bodyPool sync.Pool // *[]byte, capacity at most pooledBodyCap

// getBody returns an empty buffer of capacity at least n: a pooled one, or
// a new one of n's size class, so that bodies of about the same size (an
// SDK's batches) reuse each other's buffers.
func getBody(n int) []byte {
	class := sizeClass(n)
	if v, ok := bodyPool.Get().(*[]byte); ok {
		if c := cap(*v); c >= n && c <= 2*class {
			return (*v)[:0]
		}
		// Too small, or so large that a small body would hold (and be
		// charged) far more than it needs: left for another body.
		bodyPool.Put(v)
	}
	return make([]byte, 0, class)
}

// sizeClass rounds n up to an eighth of its power of two (at most 12.5 %
// more), up to pooledBodyCap; larger buffers are not pooled and are exact.
func sizeClass(n int) int {
	if n <= 0 || n > pooledBodyCap {
		return n
	}
	step := max(1<<(bits.Len(uint(n))-1)/8, 1)
	return (n + step - 1) / step * step
}

// putBody gives a buffer returned by readBody back for reuse; the caller
// must not use it afterwards.
func putBody(b []byte) {
	if cap(b) == 0 || cap(b) > pooledBodyCap {
		return
	}
	bodyPool.Put(&b)
}

func tooLarge(limit int) error {
	return oversize("Request body is larger than the limit of " + itoa(limit) + " bytes.")
}

func tooLargeDecompressed(limit int) error {
	return oversize("Request body is larger than the limit of " + itoa(limit) + " bytes after decompression.")
}

// encodingOf returns the request's content coding, lower-cased: "" for
// none, or an error for one that is not supported (415).
func encodingOf(ctx *fasthttp.RequestCtx) (string, error) {
	enc := strings.ToLower(strings.TrimSpace(string(ctx.Request.Header.ContentEncoding())))
	switch enc {
	case "", "identity":
		return "", nil
	case "gzip", "x-gzip":
		return "gzip", nil
	case "deflate", "zstd":
		return enc, nil
	}
	return "", errEncoding
}

// readBody reads the request body, decompressed as its Content-Encoding
// says, up to limit bytes (as sent and decompressed alike; 413 past it).
// Every byte of capacity it allocates is first passed to hold, which may
// refuse it (the write path's admission, 503); hold may be nil for the
// small bodies of the control routes. The buffer returned is the caller's
// and may be handed back with putBody.
func (s *Server) readBody(ctx *fasthttp.RequestCtx, limit int, hold func(int) error) ([]byte, error) {
	if hold == nil {
		hold = func(int) error { return nil }
	}
	enc, err := encodingOf(ctx)
	if err != nil {
		return nil, err
	}
	declared := ctx.Request.Header.ContentLength()
	if declared > limit {
		return nil, tooLarge(limit)
	}
	prog := progressOf(ctx)
	stream := ctx.RequestBodyStream()
	if stream == nil || declared == 0 {
		// No body at all.
		prog.done = true
		return nil, nil
	}
	raw := &sentBody{r: stream, limit: limit, declared: declared, prog: prog}

	var src io.Reader = raw
	var release func()
	switch enc {
	case "gzip":
		if err := hold(inflateState); err != nil {
			return nil, err
		}
		zr, err := gzipReader(raw)
		if err != nil {
			return nil, decompressError(err, limit, raw)
		}
		src, release = zr, func() { gzipPool.Put(zr) }
	case "deflate":
		if err := hold(inflateState); err != nil {
			return nil, err
		}
		zr, err := zlib.NewReader(raw)
		if err != nil {
			return nil, decompressError(err, limit, raw)
		}
		src, release = zr, func() { _ = zr.Close() }
	case "zstd":
		if err := hold(zstdWindow); err != nil {
			return nil, err
		}
		zr, err := zstdReader(raw, limit)
		if err != nil {
			return nil, decompressError(err, limit, raw)
		}
		src, release = zr, func() { zstdPool.Put(zr) }
	}
	if release != nil {
		defer release()
	}

	// A body of known size gets its buffer in one piece up to
	// firstKnownChunk (an SDK batch), and grows towards its size as it
	// arrives beyond: a client that announces megabytes and sends them
	// slowly holds what it sent, not what it announced.
	size, want := min(firstChunk, limit+1), limit+1
	if enc == "" && declared >= 0 {
		size, want = min(declared, firstKnownChunk), declared
	}
	buf := getBody(size)
	if err := hold(cap(buf)); err != nil {
		putBody(buf)
		return nil, err
	}
	for {
		if len(buf) == want && enc == "" && declared >= 0 {
			// All of it: the stream's end comes with its last bytes,
			// or with the next read.
			var one [1]byte
			if n, err := src.Read(one[:]); n == 0 && err == io.EOF {
				break
			} else if err != nil && err != io.EOF {
				return nil, raw.failure(err)
			}
			return nil, tooLarge(limit)
		}
		if len(buf) == cap(buf) {
			next := min(2*cap(buf), want)
			if next <= cap(buf) {
				next = cap(buf) + firstChunk
			}
			if err := hold(next - cap(buf)); err != nil {
				return nil, err
			}
			grown := make([]byte, len(buf), next)
			copy(grown, buf)
			putBody(buf)
			buf = grown
		}
		n, err := src.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if len(buf) > limit {
			if enc == "" {
				return nil, tooLarge(limit)
			}
			return nil, tooLargeDecompressed(limit)
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			if enc != "" && raw.err == nil {
				return nil, decompressError(err, limit, raw)
			}
			return nil, raw.failure(err)
		}
	}
	if enc != "" && !prog.done {
		// A compressed body may carry bytes past its last frame; read
		// them (bounded by limit) so that the connection can be reused.
		if _, err := io.Copy(io.Discard, raw); err != nil {
			return nil, raw.failure(err)
		}
	}
	return buf, nil
}

// sentBody reads the body as the client sends it, counting the bytes and
// refusing more than limit of them.
type sentBody struct {
	r        io.Reader
	limit    int
	declared int // Content-Length, or -1 for a chunked body
	prog     *bodyProgress
	err      error // the first transport error
}

func (b *sentBody) Read(p []byte) (int, error) {
	if b.prog.done {
		return 0, io.EOF
	}
	if left := b.limit + 1 - b.prog.read; len(p) > left {
		p = p[:left]
	}
	n, err := b.r.Read(p)
	b.prog.read += n
	if b.prog.read > b.limit {
		b.err = tooLarge(b.limit)
		return n, b.err
	}
	if err == io.EOF && b.declared >= 0 && b.prog.read < b.declared {
		// fasthttp reports a connection closed inside a body of known
		// length as its end: it is a body cut short.
		err = io.ErrUnexpectedEOF
	}
	if err == io.EOF {
		b.prog.done = true
	} else if err != nil && b.err == nil {
		b.err = err
	}
	return n, err
}

// failure maps an error met while reading the body to its answer.
func (b *sentBody) failure(err error) error {
	if b.err != nil {
		err = b.err
	}
	var herr *httpError
	var netErr net.Error
	switch {
	case errors.As(err, &herr):
		return err
	case errors.Is(err, io.ErrUnexpectedEOF) && b.declared >= 0:
		return invalid("Request body ended after " + itoa(b.prog.read) +
			" of the " + itoa(b.declared) + " bytes that its Content-Length announced.")
	case errors.As(err, &netErr) && netErr.Timeout():
		return timedOut("Request body was not received in time.")
	default:
		return invalid("Request body could not be read: malformed chunked encoding or a closed connection.")
	}
}

// decompressError maps an error of a decompressor to its answer: the
// transport's own error first, a window or size over the limit as 413,
// anything else as a body that could not be decompressed.
func decompressError(err error, limit int, raw *sentBody) error {
	if raw.err != nil {
		return raw.failure(raw.err)
	}
	if errors.Is(err, zstd.ErrWindowSizeExceeded) || errors.Is(err, zstd.ErrDecoderSizeExceeded) {
		return tooLargeDecompressed(limit)
	}
	return invalid("Request body could not be decompressed: " + err.Error())
}

var (
	gzipPool sync.Pool // *gzip.Reader
	zstdPool sync.Pool // *zstd.Decoder
)

func gzipReader(r io.Reader) (*gzip.Reader, error) {
	if zr, ok := gzipPool.Get().(*gzip.Reader); ok {
		if err := zr.Reset(r); err != nil {
			gzipPool.Put(zr)
			return nil, err
		}
		return zr, nil
	}
	return gzip.NewReader(r)
}

// zstdReader returns a synchronous decoder (no goroutines of its own) whose
// window and output are bounded.
func zstdReader(r io.Reader, limit int) (*zstd.Decoder, error) {
	if zr, ok := zstdPool.Get().(*zstd.Decoder); ok {
		if err := zr.ResetWithOptions(r, zstd.WithDecoderMaxMemory(uint64(limit))); err != nil {
			zstdPool.Put(zr)
			return nil, err
		}
		return zr, nil
	}
	return zstd.NewReader(r, zstd.WithDecoderConcurrency(1), zstd.WithDecoderLowmem(true),
		zstd.WithDecoderMaxWindow(zstdWindow), zstd.WithDecoderMaxMemory(uint64(limit)))
}

// jsonBody reads the small JSON body of a control route into v; an empty
// body leaves v as it is.
func (s *Server) jsonBody(ctx *fasthttp.RequestCtx, v any) error {
	body, err := s.controlBody(ctx)
	if err != nil || len(bytes.TrimSpace(body)) == 0 {
		return err
	}
	return codec.Unmarshal(body, v)
}

// controlBody reads the small JSON body of a control route.
func (s *Server) controlBody(ctx *fasthttp.RequestCtx) ([]byte, error) {
	return s.readBody(ctx, min(controlBodyLimit, s.opts.MaxBody), nil)
}

// credentialBody reads the body of a route whose credential is in it.
func (s *Server) credentialBody(ctx *fasthttp.RequestCtx) ([]byte, error) {
	return s.readBody(ctx, min(credentialBodyLimit, s.opts.MaxBody), nil)
}

// Lingering close. A client that writes its whole body before it reads
// (Python, Go's net/http, OkHttp, URLSession) and is refused early would
// see a connection reset, not its answer, if the server closed the
// connection with the body still arriving: the kernel answers unread data
// with a reset, and the reset discards the answer on the client's side.
// So, as nginx does, the answer is sent, the sending side is shut, and
// what the client still sends is read and thrown away, in a small buffer,
// until it stops, for at most lingerTime and lingerBytes and never more than
// lingerRead between two reads, then the connection is closed. At most maxLingering
// connections linger at once; past that they are closed at once.
const (
	lingerTime   = 30 * time.Second
	lingerBytes  = 64 << 20
	lingerRead   = 5 * time.Second
	maxLingering = 256
	// drainKept is the most of a refused body that is read and thrown away
	// before the answer, so that the connection stays open for the next
	// request: a phone's batch of 2,000 items is about 1 MB, and a
	// reconnection per 503 would cost an overloaded server more than the
	// read. Past it, the connection lingers and closes.
	drainKept = 2 << 20
)

var lingerBufs = sync.Pool{New: func() any { b := make([]byte, 4096); return &b }}

// settleBody runs after every handler. When the handler left much of the
// body unread (a refusal, or a route that takes no body), the connection
// is closed after the answer, lingering so that the client reads it.
func (s *Server) settleBody(ctx *fasthttp.RequestCtx) {
	declared := ctx.Request.Header.ContentLength()
	if declared == 0 || declared == -2 || ctx.RequestBodyStream() == nil {
		return
	}
	prog := progressOf(ctx)
	if prog.done {
		return
	}
	if declared < 0 || declared-prog.read <= drainKept {
		// Read and thrown away through a small buffer, never kept.
		raw := &sentBody{r: ctx.RequestBodyStream(), limit: prog.read + drainKept, declared: declared, prog: prog}
		bp := lingerBufs.Get().(*[]byte)
		_, err := io.CopyBuffer(io.Discard, raw, *bp)
		lingerBufs.Put(bp)
		if err == nil && prog.done {
			return
		}
	}
	s.lingerClose(ctx)
}

// lingerClose closes the connection once the answer is sent, lingering.
// The answer is written here, not by fasthttp, which would close the
// connection at once after an answer that says "Connection: close".
func (s *Server) lingerClose(ctx *fasthttp.RequestCtx) {
	select {
	case s.lingering <- struct{}{}:
	default:
		ctx.SetConnectionClose() // too many already: closed at once
		return
	}
	ctx.HijackSetNoResponse(true)
	ctx.Hijack(func(c net.Conn) {
		defer func() { <-s.lingering }()
		// ctx stays valid until this function returns.
		ctx.Response.SetConnectionClose()
		_ = c.SetWriteDeadline(time.Now().Add(s.opts.WriteTimeout))
		bw := bufio.NewWriterSize(c, 4096)
		if err := ctx.Response.Write(bw); err != nil || bw.Flush() != nil {
			return
		}
		raw := c
		if u, ok := c.(interface{ UnsafeConn() net.Conn }); ok {
			raw = u.UnsafeConn()
		}
		if cw, ok := raw.(interface{ CloseWrite() error }); ok {
			_ = cw.CloseWrite()
		}
		bp := lingerBufs.Get().(*[]byte)
		defer lingerBufs.Put(bp)
		end := time.Now().Add(lingerTime)
		for drained := 0; drained < lingerBytes; {
			now := time.Now()
			if !now.Before(end) {
				return
			}
			next := now.Add(lingerRead)
			if next.After(end) {
				next = end
			}
			_ = c.SetReadDeadline(next)
			n, err := c.Read(*bp)
			if err != nil {
				return
			}
			drained += n
		}
	})
}
