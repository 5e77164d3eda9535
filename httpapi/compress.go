package httpapi

import (
	"bytes"

	"github.com/valyala/fasthttp"
)

// compressMin is the smallest JSON answer that is gzipped for a client that
// takes gzip: below it the header costs more than it saves.
const compressMin = 4 << 10

// compressJSON gzips a JSON answer of at least compressMin bytes, at the
// fastest level, when the client takes gzip. A page of time series
// repeats the same keys and source objects, so it shrinks about tenfold,
// which is what a browser on a home network or a phone waits for; the
// fastest level costs a few milliseconds a megabyte. Streamed answers (CSV,
// GPX, backups, event streams) are left as they are.
func compressJSON(ctx *fasthttp.RequestCtx) {
	res := &ctx.Response
	if res.IsBodyStream() || len(res.Header.ContentEncoding()) > 0 || len(res.Body()) < compressMin ||
		!bytes.HasPrefix(res.Header.ContentType(), []byte("application/json")) ||
		!bytes.Contains(ctx.Request.Header.Peek("Accept-Encoding"), []byte("gzip")) || ctx.IsHead() {
		return
	}
	z := fasthttp.AppendGzipBytesLevel(nil, res.Body(), fasthttp.CompressBestSpeed)
	res.SetBodyRaw(z)
	res.Header.SetContentEncoding("gzip")
	res.Header.Add("Vary", "Accept-Encoding")
}
