package policy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"reflect"
	"slices"
	"strings"
)

// MaxSize bounds a policy file.
const MaxSize = 1 << 20

// Decode reads one JSON object from data into v, rejecting unknown fields,
// trailing data and documents over [MaxSize]. Errors name source and, where
// the JSON decoder knows it, the line and column, and wrap [ErrInvalid].
func Decode(data []byte, source string, v any) error {
	source = orPolicy(source)
	if len(data) > MaxSize {
		return fmt.Errorf("%s: %w: larger than %d bytes", source, ErrInvalid, MaxSize)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%s: %w", at(data, source, dec, err), errors.Join(ErrInvalid, err))
	}
	if _, err := dec.Token(); err != io.EOF {
		return fmt.Errorf("%s:%s: %w: data after the policy object", source, lineCol(data, dec.InputOffset()-1), ErrInvalid)
	}
	// encoding/json matches field names without regard to case; a
	// policy's names must be exact, or "requireSbom" would pass for
	// "requireSBOM" in one reader and not in another.
	var tree any
	if err := json.Unmarshal(data, &tree); err != nil {
		return fmt.Errorf("%s: %w", source, errors.Join(ErrInvalid, err))
	}
	if err := exactNames(reflect.TypeOf(v), tree, ""); err != nil {
		return fmt.Errorf("%s: %w: %w", source, ErrInvalid, err)
	}
	return nil
}

var unmarshaler = reflect.TypeFor[json.Unmarshaler]()

// exactNames checks that every object key in tree is the exact json name
// of a field of t, the Go type it was decoded into.
func exactNames(t reflect.Type, tree any, at string) error {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if reflect.PointerTo(t).Implements(unmarshaler) {
		return nil
	}
	switch t.Kind() {
	case reflect.Struct:
		obj, ok := tree.(map[string]any)
		if !ok {
			return nil
		}
		fields := map[string]reflect.Type{}
		for f := range t.Fields() {
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if !f.IsExported() || name == "-" {
				continue
			}
			if name == "" {
				name = f.Name
			}
			fields[name] = f.Type
		}
		for _, k := range slices.Sorted(maps.Keys(obj)) {
			ft, ok := fields[k]
			if !ok {
				return fmt.Errorf("%sunknown field %q (names are case-sensitive)", prefix(at), k)
			}
			if err := exactNames(ft, obj[k], join(at, k)); err != nil {
				return err
			}
		}
	case reflect.Map:
		if obj, ok := tree.(map[string]any); ok {
			for _, k := range slices.Sorted(maps.Keys(obj)) {
				if err := exactNames(t.Elem(), obj[k], join(at, k)); err != nil {
					return err
				}
			}
		}
	case reflect.Slice, reflect.Array:
		if list, ok := tree.([]any); ok {
			for i, e := range list {
				if err := exactNames(t.Elem(), e, fmt.Sprintf("%s[%d]", at, i)); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func join(at, k string) string {
	if at == "" {
		return k
	}
	return at + "." + k
}

func prefix(at string) string {
	if at == "" {
		return ""
	}
	return at + ": "
}

// Read reads a policy document from r, at most [MaxSize] bytes.
func Read(r io.Reader, source string) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxSize+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", orPolicy(source), err)
	}
	if len(data) > MaxSize {
		return nil, fmt.Errorf("%s: %w: larger than %d bytes", orPolicy(source), ErrInvalid, MaxSize)
	}
	return data, nil
}

func at(data []byte, source string, dec *json.Decoder, err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return source + ":" + lineCol(data, max(se.Offset-1, 0))
	case errors.As(err, &te):
		where := source + ":" + lineCol(data, max(te.Offset-1, 0))
		if te.Field != "" {
			where += ": " + te.Field
		}
		return where
	}
	return source + ":" + lineCol(data, dec.InputOffset())
}

// lineCol gives the 1-based line and column of byte offset off.
func lineCol(data []byte, off int64) string {
	off = min(off, int64(len(data)))
	line, col := 1, 1
	for _, c := range data[:off] {
		if c == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
	}
	return fmt.Sprintf("%d:%d", line, col)
}
