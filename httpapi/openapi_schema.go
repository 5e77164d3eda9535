package httpapi

import (
	"encoding/json"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"
)

// The schemas of the OpenAPI document are made from the Go types the routes
// encode and decode, by reflection, as encoding/json (and sonic, which
// follows it) reads their fields: by their json tags, embedded structs'
// fields promoted, "-" and unexported fields left out. So a field added to
// a wire type is in the document at once, and nothing is written twice.
//
//   - In an answer, a field is required unless its tag says omitempty: the
//     encoder always writes it. A pointer is nullable (type [X, "null"], or
//     anyOf a $ref and null); a slice is an array, a map[string]X an object
//     of X; time.Time is a date-time string; json.RawMessage and interface
//     types are any JSON ({}).
//   - In a request body, nothing is required but what requestRequired
//     names, and the rest may be null: the decoders read absent and null
//     fields as empty and decide themselves (the sync route drops an item,
//     not the body, for a missing date).
//   - A named struct is a $ref to components/schemas under its Go name; a
//     generic one under its name and its type arguments' (Page_Sample). An
//     anonymous struct is written in place.

// schemaMode says whether a type is read from requests or written in
// answers: their required fields differ.
type schemaMode int

const (
	answerMode schemaMode = iota
	requestMode
)

// schemaGen builds the schemas of one document.
type schemaGen struct {
	components map[string]any
	names      map[reflect.Type]string
	modes      map[reflect.Type]schemaMode
	errs       []error
}

func newSchemaGen() *schemaGen {
	return &schemaGen{components: map[string]any{}, names: map[reflect.Type]string{}, modes: map[reflect.Type]schemaMode{}}
}

var (
	timeType = reflect.TypeFor[time.Time]()
	rawType  = reflect.TypeFor[json.RawMessage]()
)

// schema returns the schema of t, adding the named structs it reaches to
// the components.
func (g *schemaGen) schema(t reflect.Type, mode schemaMode) map[string]any {
	if s, ok := typeSchemas[t]; ok {
		return s()
	}
	switch t {
	case timeType:
		return map[string]any{"type": "string", "format": "date-time"}
	case rawType:
		return map[string]any{}
	}
	switch t.Kind() {
	case reflect.Bool:
		return map[string]any{"type": "boolean"}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return map[string]any{"type": "integer"}
	case reflect.Float32, reflect.Float64:
		return map[string]any{"type": "number"}
	case reflect.String:
		return map[string]any{"type": "string"}
	case reflect.Interface:
		return map[string]any{}
	case reflect.Pointer:
		return nullable(g.schema(t.Elem(), mode))
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 {
			return map[string]any{"type": "string", "contentEncoding": "base64"}
		}
		return map[string]any{"type": "array", "items": g.schema(t.Elem(), mode)}
	case reflect.Map:
		if t.Key().Kind() != reflect.String {
			g.errs = append(g.errs, fmt.Errorf("openapi: %v: map keys must be strings", t))
		}
		return map[string]any{"type": "object", "additionalProperties": g.schema(t.Elem(), mode)}
	case reflect.Struct:
		if t.Name() == "" {
			return g.object(t, mode)
		}
		return map[string]any{"$ref": "#/components/schemas/" + g.component(t, mode)}
	}
	g.errs = append(g.errs, fmt.Errorf("openapi: %v: no schema for kind %v", t, t.Kind()))
	return map[string]any{}
}

// component names a named struct and adds its schema once.
func (g *schemaGen) component(t reflect.Type, mode schemaMode) string {
	if name, ok := g.names[t]; ok {
		if g.modes[t] != mode {
			g.errs = append(g.errs, fmt.Errorf("openapi: %v is both a request body and an answer; give each its own type", t))
		}
		return name
	}
	name := componentName(t)
	for other, n := range g.names {
		if n == name {
			g.errs = append(g.errs, fmt.Errorf("openapi: %v and %v would both be the schema %s", other, t, name))
		}
	}
	g.names[t], g.modes[t] = name, mode
	g.components[name] = nil // taken before its fields, which may refer to it
	g.components[name] = g.object(t, mode)
	return name
}

var nonName = regexp.MustCompile(`[^A-Za-z0-9]+`)

// componentName is a struct's Go name, capitalised, or its name in
// componentNames; a generic struct's gets its type arguments' names:
// Page[wearhouse/query.Sample] is Page_Sample, and an anonymous struct
// argument is Object.
func componentName(t reflect.Type) string {
	if name, ok := componentNames[t]; ok {
		return name
	}
	name := strings.ToUpper(t.Name()[:1]) + t.Name()[1:]
	open := strings.IndexByte(name, '[')
	if open < 0 {
		return name
	}
	parts := []string{name[:open]}
	for _, arg := range strings.Split(strings.TrimSuffix(name[open+1:], "]"), ",") {
		arg = strings.TrimSpace(arg)
		if strings.HasPrefix(arg, "struct") {
			parts = append(parts, "Object")
			continue
		}
		arg = arg[strings.LastIndexAny(arg, "./")+1:]
		parts = append(parts, nonName.ReplaceAllString(arg, ""))
	}
	return strings.Join(parts, "_")
}

// object is the schema of a struct's fields.
func (g *schemaGen) object(t reflect.Type, mode schemaMode) map[string]any {
	props := map[string]any{}
	var required []string
	g.fields(t, mode, props, &required, map[string]bool{})
	if mode == requestMode {
		required = nil
		for _, name := range requestRequired[t] {
			if _, ok := props[name]; !ok {
				g.errs = append(g.errs, fmt.Errorf("openapi: requestRequired names %s.%s, which it does not have", t, name))
			}
			required = append(required, name)
		}
	}
	for name, s := range fieldSchemas[t] {
		if _, ok := props[name]; !ok {
			g.errs = append(g.errs, fmt.Errorf("openapi: fieldSchemas names %s.%s, which it does not have", t, name))
		}
		props[name] = s()
	}
	if mode == requestMode {
		// The decoders read null as absent, wherever it is.
		for name, s := range props {
			if !slices.Contains(required, name) {
				props[name] = nullable(s.(map[string]any))
			}
		}
	}
	out := map[string]any{"type": "object", "properties": props}
	if len(required) > 0 {
		sort.Strings(required)
		out["required"] = required
	}
	return out
}

// fields adds the fields of t, then those its embedded structs promote
// (an outer field wins over a promoted one of the same name, as in
// encoding/json).
func (g *schemaGen) fields(t reflect.Type, mode schemaMode, props map[string]any, required *[]string, seen map[string]bool) {
	var embedded []reflect.Type
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" {
			et := f.Type
			if et.Kind() == reflect.Pointer {
				et = et.Elem()
			}
			if et.Kind() == reflect.Struct {
				embedded = append(embedded, et)
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		if seen[name] {
			continue
		}
		seen[name] = true
		s := g.schema(f.Type, mode)
		if doc := f.Tag.Get("doc"); doc != "" {
			s = described(s, doc)
		}
		props[name] = s
		if !strings.Contains(","+opts+",", ",omitempty,") {
			*required = append(*required, name)
		}
	}
	for _, et := range embedded {
		g.fields(et, mode, props, required, seen)
	}
}

// nullable lets a schema be null too.
func nullable(s map[string]any) map[string]any {
	switch typ := s["type"].(type) {
	case string:
		out := copySchema(s)
		out["type"] = []any{typ, "null"}
		return out
	case []any:
		if slices.Contains(typ, any("null")) {
			return s
		}
		out := copySchema(s)
		out["type"] = append(slices.Clip(typ), "null")
		return out
	case nil:
		if len(s) == 0 {
			return s // anything already
		}
		for _, alt := range asSchemas(s["anyOf"]) {
			if alt["type"] == "null" {
				return s
			}
		}
	}
	return map[string]any{"anyOf": []any{s, map[string]any{"type": "null"}}}
}

// described adds a description; a $ref cannot carry siblings in every
// reader, so it is wrapped.
func described(s map[string]any, doc string) map[string]any {
	if _, ok := s["$ref"]; ok {
		return map[string]any{"allOf": []any{s}, "description": doc}
	}
	out := copySchema(s)
	out["description"] = doc
	return out
}

func asSchemas(v any) []map[string]any {
	l, _ := v.([]any)
	out := make([]map[string]any, 0, len(l))
	for _, e := range l {
		if m, ok := e.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}

func copySchema(s map[string]any) map[string]any {
	out := make(map[string]any, len(s)+1)
	for k, v := range s {
		out[k] = v
	}
	return out
}
