package applehealth

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// startTags lists the start tags of data with their attributes, by the
// scanner's tokenizer.
func startTags(data []byte) ([]string, error) {
	s := NewScanner(bytes.NewReader(data))
	var out []string
	for {
		t, err := s.next()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		if t.kind == startTag {
			var b strings.Builder
			b.Write(t.name)
			for _, a := range t.attrs {
				fmt.Fprintf(&b, " %s=%q", a.name, a.value)
			}
			out = append(out, b.String())
		}
	}
}

// TestAgreesWithEncodingXML: on every testdata file and the generated
// export, the scanner sees the same elements and attributes as encoding/xml.
func TestAgreesWithEncodingXML(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.xml")
	inputs := map[string][]byte{"generated": generate(64 << 10)}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		inputs[f] = data
	}
	for name, data := range inputs {
		ours, err := startTags(data)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var theirs []string
		d := xml.NewDecoder(bytes.NewReader(data))
		for {
			tok, err := d.Token()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("%s: encoding/xml: %v", name, err)
			}
			if se, ok := tok.(xml.StartElement); ok {
				var b strings.Builder
				b.WriteString(se.Name.Local)
				for _, a := range se.Attr {
					fmt.Fprintf(&b, " %s=%q", a.Name.Local, a.Value)
				}
				theirs = append(theirs, b.String())
			}
		}
		if strings.Join(ours, "\n") != strings.Join(theirs, "\n") {
			t.Errorf("%s: the scanner and encoding/xml disagree:\n%v\n%v", name, ours, theirs)
		}
	}
}

// FuzzScanner: no input makes the scanner panic or loop, and an input it
// accepts has tags that nest.
func FuzzScanner(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.xml")
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s := NewScanner(bytes.NewReader(data))
		for range len(data) + 2 {
			if _, err := s.Next(); err != nil {
				return
			}
		}
		t.Fatalf("more items than bytes")
	})
}
