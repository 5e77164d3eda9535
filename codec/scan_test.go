package codec

import (
	"strings"
	"testing"
)

func TestCountItemsFixtures(t *testing.T) {
	for _, name := range fixtureNames(t) {
		t.Run(name, func(t *testing.T) {
			body := readFixture(t, name)
			nr, ns, nw, ok := jsonItemCounts(body)
			if !ok {
				t.Fatal("fixture does not have the sync shape for encoding/json")
			}
			n, err := countItems(body)
			if err != nil {
				t.Fatalf("countItems: %v", err)
			}
			if n != nr+ns+nw {
				t.Errorf("countItems = %d, encoding/json counts %d+%d+%d", n, nr, ns, nw)
			}
		})
	}

	// The counts before validation are those DecodeSync accounts for.
	for name, want := range map[string]int{
		seedFixture: 3,
		"sleep_service__DETAILED_STAGES_PAYLOAD.json":                       9,
		"spec__005-unified-health-payload__example_7_2_samsung_health.json": 17,
		"malformed_payload_debug__malformed_value_null.json":                1,
		"apple_sdk_import__test_import_empty_payload.json":                  0,
	} {
		if n, err := countItems(readFixture(t, name)); err != nil || n != want {
			t.Errorf("%s: countItems = %d, %v; want %d", name, n, err, want)
		}
	}
}

func TestCountItems(t *testing.T) {
	tests := []struct {
		name string
		body string
		want int
	}{
		{"empty body", ``, 0},
		{"empty object", `{}`, 0},
		{"no data", `{"provider":"apple","records":[1,2,3]}`, 0},
		{"empty lists", `{"data":{"records":[],"sleep":[ ],"workouts":[` + "\n" + `]}}`, 0},
		{"null lists", `{"data":{"records":null,"sleep":null}}`, 0},
		{"objects", `{"data":{"records":[{},{"a":1},{"b":[1,2]}]}}`, 3},
		{"all three", `{"data":{"records":[{}],"sleep":[{},{}],"workouts":[{},{},{}]}}`, 6},
		{"scalars", `{"data":{"records":[1,-2.5e3,0,true,false,null,"s",""]}}`, 8},
		{"arrays as items", `{"data":{"records":[[],[1,2,3],[[[]]]]}}`, 3},
		{"bracket and comma in strings", `{"data":{"records":["a],[b","{,}",{"id":"]]],{{"}]}}`, 3},
		{"escaped quote", `{"data":{"records":["a\"],[","b"]}}`, 2},
		{"escaped quote in item", `{"data":{"records":[{"id":"a\"],[{\""},{"id":"x"}]}}`, 2},
		{"escaped backslash before quote", `{"data":{"records":["\\",1,"\\\\",2]}}`, 4},
		{"escaped backslash then quote", `{"data":{"records":["\\\"]",3]}}`, 2},
		{"unicode escapes", `{"data":{"records":["\u005d\u002c","\u0022",{"k":"\u007b"}]}}`, 3},
		{"multi-byte text", `{"data":{"records":["é],ü","日本,[]"]}}`, 2},
		{"route points do not count", `{"data":{"workouts":[{"route":[{"lat":1},{"lat":2},[3,4]],"values":[{"type":"x","value":1}]}]}}`, 1},
		{"samples do not count", `{"data":{"workouts":[{"samples":[1,2,3]},{"samples":[]}],"sleep":[{"values":[{},{}]}]}}`, 3},
		{"nested records key", `{"data":{"records":[{"records":[1,2,3],"data":{"records":[4]}}]}}`, 1},
		{"other keys in data", `{"data":{"other":[1,2],"recordsX":[1],"record":[1],"records":[1]}}`, 1},
		{"data under another key", `{"x":{"data":{"records":[1,2,3]}},"data":{"sleep":[1]}}`, 1},
		{"data inside an array", `{"list":[{"data":{"records":[1,2]}}]}`, 0},
		{"root array", `[{"data":{"records":[1,2]}}]`, 0},
		{"data is an array", `{"data":[{"records":[1,2]}]}`, 0},
		{"lists are objects", `{"data":{"records":{"a":[1,2]},"sleep":{"0":{}}}}`, 0},
		{"key name as value", `{"data":{"a":"records","b":[1,2],"c":"sleep"}}`, 0},
		{"data as a value", `{"a":"data","b":{"records":[1,2]}}`, 0},
		{"key with escaped quote", `{"data":{"rec\"ords":[1,2],"records":[3]}}`, 1},
		{"value before data", `{"provider":"apple","sdkVersion":"1","meta":{"x":[1,2,3]},"data":{"records":[1]}}`, 1},
		{"value after lists", `{"data":{"records":[1,2],"x":{"y":[1]},"sleep":[3]},"z":[4]}`, 3},
		{"whitespace", "{ \"data\" :\n{\t\"records\" : [ 1 , 2 ,\r\n 3 ] ,\n\"sleep\":[\n{ }\n]\n}\n}\n", 4},
		{"no whitespace scalars", `{"data":{"records":[1,2,3],"sleep":[true,null],"workouts":["w"]}}`, 6},
		{"numbers with exponents", `{"data":{"records":[1e5,-0.5E-3,2]}}`, 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n, err := countItems([]byte(tc.body))
			if err != nil {
				t.Fatalf("countItems(%s): %v", tc.body, err)
			}
			if n != tc.want {
				t.Errorf("countItems(%s) = %d, want %d", tc.body, n, tc.want)
			}
			// Where encoding/json sees the sync shape, it agrees.
			if nr, ns, nw, ok := jsonItemCounts([]byte(tc.body)); ok && nr+ns+nw != n {
				t.Errorf("encoding/json counts %d+%d+%d, countItems %d", nr, ns, nw, n)
			}
		})
	}
}

func TestCountItemsMalformed(t *testing.T) {
	for _, body := range []string{
		`{"data":{"records":["unterminated`,
		`{"data":{"records":["ends with escape\`,
		`{"data":{}}}`,
		`]`,
		`{"x":` + strings.Repeat("[", 5000) + strings.Repeat("]", 5000) + `}`,
	} {
		if n, err := countItems([]byte(body)); err == nil {
			t.Errorf("countItems(%.60s) = %d, nil error; want an error", body, n)
		}
	}

	// Nesting up to the limit is fine.
	deep := `{"data":{"records":[` + strings.Repeat("[", 4000) + strings.Repeat("]", 4000) + `,1]}}`
	if n, err := countItems([]byte(deep)); err != nil || n != 2 {
		t.Errorf("deep body: %d, %v; want 2", n, err)
	}
}

func TestCountItemsLarge(t *testing.T) {
	items := make([]string, 5000)
	for i := range items {
		items[i] = record()
	}
	body := syncBody(items[:3000], items[:1500], items[:500])
	if n, err := countItems(body); err != nil || n != 5000 {
		t.Errorf("countItems = %d, %v; want 5000", n, err)
	}
}
