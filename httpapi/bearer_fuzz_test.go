package httpapi

import (
	"bytes"
	"io"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/rs/zerolog"

	"wearhouse/auth"
	"wearhouse/pebblestore"
)

// FuzzAuthorizationHeader feeds the Authorization header parser arbitrary
// bytes. It must never panic; it accepts exactly "Bearer " (the word in any
// case, one space) followed by a token that is not only white space, and
// the token it returns is that rest without surrounding white space.
func FuzzAuthorizationHeader(f *testing.F) {
	st, err := pebblestore.Open(pebblestore.Options{Dir: f.TempDir(), Logger: zerolog.Nop()})
	if err != nil {
		f.Fatal(err)
	}
	defer st.Close()
	svc, err := auth.Open(st, auth.Options{DataDir: f.TempDir(), AdminKey: "sk-0123456789abcdef0123456789abcdef",
		Announce: io.Discard, Logger: zerolog.Nop()})
	if err != nil {
		f.Fatal(err)
	}
	b := st.NewBatch()
	if _, err := b.CreateUser("user-1", time.Now(), nil); err != nil {
		f.Fatal(err)
	}
	if err := b.Commit(); err != nil {
		f.Fatal(err)
	}
	pair, err := svc.MintSDKToken("user-1", auth.AdminAppID("key_admin_env"), 0)
	if err != nil {
		f.Fatal(err)
	}
	tok := pair.AccessToken
	for _, seed := range []string{
		"Bearer " + tok, "bearer " + tok, "BEARER " + tok, "bEaReR " + tok, "Bearer  " + tok + "  ",
		"Bearer\t" + tok, "Bearer" + tok, "Bearer", "Bearer ", "Bearer  ", "Bearer \t\r\n", "Basic dXNlcjpwYXNz",
		"Token " + tok, " Bearer " + tok, "Bearer " + tok + " extra", "Bearer \u00a0" + tok + "\u2003",
		"Bearer \x00", "Bearer \xff\xfe", "Bearer\u00a0" + tok, "Beare\u0280 x", "\u212aearer x", "",
		"Bearer " + pair.RefreshToken, "Bearer sk-0123456789abcdef0123456789abcdef",
	} {
		f.Add([]byte(seed))
	}

	f.Fuzz(func(t *testing.T, h []byte) {
		in := bytes.Clone(h)
		got, ok := bearer(h)
		if !bytes.Equal(in, h) {
			t.Fatalf("the parser changed its input")
		}
		rest, hasPrefix := cutBearer(h)
		wantOK := hasPrefix && len(bytes.TrimFunc(rest, unicode.IsSpace)) > 0
		if ok != wantOK {
			t.Fatalf("bearer(%q) ok = %v, want %v", h, ok, wantOK)
		}
		if !ok {
			if got != "" {
				t.Fatalf("bearer(%q) refused but returned %q", h, got)
			}
			return
		}
		if got == "" {
			t.Fatalf("bearer(%q) accepted an empty token", h)
		}
		first, _ := utf8.DecodeRuneInString(got)
		last, _ := utf8.DecodeLastRuneInString(got)
		if unicode.IsSpace(first) || unicode.IsSpace(last) {
			t.Fatalf("bearer(%q) = %q has surrounding white space", h, got)
		}
		if got != string(bytes.TrimFunc(rest, unicode.IsSpace)) || !strings.Contains(string(h), got) {
			t.Fatalf("bearer(%q) = %q, not the rest of the header", h, got)
		}
	})
}

// cutBearer is the specification of the scheme: the ASCII letters of
// "bearer" in any case, then one space.
func cutBearer(h []byte) ([]byte, bool) {
	const word = "bearer"
	if len(h) < len(word)+1 || h[len(word)] != ' ' {
		return nil, false
	}
	for i := 0; i < len(word); i++ {
		c := h[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != word[i] {
			return nil, false
		}
	}
	return h[len(word)+1:], true
}
