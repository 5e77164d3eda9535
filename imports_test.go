package main

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// The import table of the design: which of our packages each package may
// import, and which package alone may import each heavy dependency. Nothing
// imports upward, so that pebblestore knows no HTTP, health no storage and
// query no ingest.
var allowedImports = map[string][]string{
	"health":      {},
	"codec":       {"health"},
	"applehealth": {"health"},
	"pebblestore": {"health"},
	"auth":        {"pebblestore", "health"},
	"audit":       {"pebblestore"},
	"ingest":      {"applehealth", "codec", "health", "pebblestore"},
	"query":       {"health", "pebblestore"},
	"fhir":        {"health", "query"},
	"httpapi":     {"audit", "auth", "codec", "fhir", "ingest", "query"},
	"app":         {"audit", "auth", "codec", "health", "httpapi", "ingest", "pebblestore", "query"},
	"bench":       {"app", "audit", "auth", "codec", "fhir", "health", "httpapi", "ingest", "pebblestore", "query"},
}

// soleImporters: a heavy dependency lives behind one package.
var soleImporters = map[string][]string{
	"github.com/bytedance/sonic":              {"codec"},
	"github.com/cockroachdb/pebble/v2":        {"pebblestore"},
	"github.com/valyala/fasthttp":             {"httpapi", "bench"},
	"github.com/golang-jwt/jwt/v5":            {"auth"},
	"github.com/HdrHistogram/hdrhistogram-go": {"bench"},
}

// TestImportTable reads the imports of every package's non-test files and
// holds them to the table.
func TestImportTable(t *testing.T) {
	dirs, err := os.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	seen := 0
	for _, d := range dirs {
		if !d.IsDir() || strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata" {
			continue
		}
		pkg := d.Name()
		imports := packageImports(t, pkg)
		if imports == nil {
			continue
		}
		seen++
		allowed, known := allowedImports[pkg]
		if !known {
			t.Errorf("package %s is not in the import table", pkg)
			continue
		}
		for imp := range imports {
			if ours, ok := strings.CutPrefix(imp, "wearhouse/"); ok {
				if !slices.Contains(allowed, ours) {
					t.Errorf("%s imports %s, which the design does not allow", pkg, ours)
				}
				continue
			}
			for dep, owners := range soleImporters {
				if (imp == dep || strings.HasPrefix(imp, dep+"/")) && !slices.Contains(owners, pkg) {
					t.Errorf("%s imports %s, which only %v may import", pkg, imp, owners)
				}
			}
		}
	}
	if seen < len(allowedImports) {
		t.Errorf("found %d packages, the table names %d", seen, len(allowedImports))
	}
}

// packageImports returns the imports of a directory's non-test Go files,
// nil when it has none.
func packageImports(t *testing.T, dir string) map[string]bool {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]bool
	fset := token.NewFileSet()
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		af, err := parser.ParseFile(fset, f, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		if out == nil {
			out = map[string]bool{}
		}
		for _, is := range af.Imports {
			p, err := strconv.Unquote(is.Path.Value)
			if err != nil {
				t.Fatal(err)
			}
			out[p] = true
		}
	}
	return out
}
