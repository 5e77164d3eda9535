package applehealth

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"testing"
)

// generate writes an export of about size bytes shaped like the Health app's.
func generate(size int) []byte {
	var b bytes.Buffer
	b.WriteString("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!DOCTYPE HealthData [\n<!ELEMENT HealthData ANY>\n]>\n<HealthData locale=\"en_US\">\n <ExportDate value=\"2024-01-02 10:00:00 +0100\"/>\n")
	for i := 0; b.Len() < size; i++ {
		fmt.Fprintf(&b, ` <Record type="HKQuantityTypeIdentifierHeartRate" sourceName="Apple Watch" sourceVersion="9.1" device="&lt;&lt;HKDevice: 0x283a4c780&gt;, name:Apple Watch, manufacturer:Apple Inc., model:Watch, hardware:Watch6,2, software:9.1&gt;" unit="count/min" creationDate="2024-01-01 08:%02d:%02d +0100" startDate="2024-01-01 08:%02d:%02d +0100" endDate="2024-01-01 08:%02d:%02d +0100" value="%d">`+"\n  <MetadataEntry key=\"HKMetadataKeyHeartRateMotionContext\" value=\"0\"/>\n </Record>\n", i/60%60, i%60, i/60%60, i%60, i/60%60, i%60, 60+i%50)
	}
	b.WriteString("</HealthData>\n")
	return b.Bytes()
}

func BenchmarkScanner(b *testing.B) {
	data := generate(8 << 20)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		s := NewScanner(bytes.NewReader(data))
		for {
			if _, err := s.Next(); err == io.EOF {
				break
			} else if err != nil {
				b.Fatal(err)
			}
		}
	}
}

func BenchmarkEncodingXMLRawToken(b *testing.B) {
	data := generate(8 << 20)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		d := xml.NewDecoder(bytes.NewReader(data))
		for {
			if _, err := d.RawToken(); err == io.EOF {
				break
			} else if err != nil {
				b.Fatal(err)
			}
		}
	}
}
