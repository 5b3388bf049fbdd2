package policy

import (
	"bytes"
	"encoding"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"strings"
)

// MaxSize bounds a policy file.
const MaxSize = 1 << 20

// Decode reads one JSON object from data into v, rejecting unknown fields,
// trailing data and documents over [MaxSize]. Field names must match
// exactly: where encoding/json would take "FailOn" for "failOn", Decode
// refuses it as unknown. Errors name source and, where the JSON decoder
// knows it, the line and column (of the key, for an unknown field), and
// wrap [ErrInvalid].
func Decode(data []byte, source string, v any) error {
	source = orPolicy(source)
	if len(data) > MaxSize {
		return fmt.Errorf("%s: %w: larger than %d bytes", source, ErrInvalid, MaxSize)
	}
	if t := bytes.TrimLeft(data, " \t\r\n"); len(t) == 0 || t[0] != '{' {
		return fmt.Errorf("%s:1:1: %w: want a JSON object", source, ErrInvalid)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%s: %w", at(data, source, dec, err, reflect.TypeOf(v)), errors.Join(ErrInvalid, err))
	}
	if _, err := dec.Token(); err != io.EOF {
		return fmt.Errorf("%s:%s: %w: data after the policy object", source, lineCol(data, dec.InputOffset()-1), ErrInvalid)
	}
	if off, key := unknownField(data, reflect.TypeOf(v), true); off >= 0 {
		return fmt.Errorf("%s:%s: %w: unknown field %q (field names are case-sensitive)", source, lineCol(data, off), ErrInvalid, key)
	}
	return nil
}

// ReadFile reads the policy file at name, at most [MaxSize] bytes; its
// errors name the file.
func ReadFile(name string) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, fmt.Errorf("read policy: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxSize+1))
	if err != nil {
		return nil, fmt.Errorf("read policy %s: %w", name, err)
	}
	if len(data) > MaxSize {
		return nil, fmt.Errorf("%s: %w: larger than %d bytes", name, ErrInvalid, MaxSize)
	}
	return data, nil
}

func at(data []byte, source string, dec *json.Decoder, err error, t reflect.Type) string {
	if strings.HasPrefix(err.Error(), "json: unknown field ") {
		if off, _ := unknownField(data, t, false); off >= 0 {
			return source + ":" + lineCol(data, off)
		}
	}
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

// unknownField returns the offset in data of the first key, in document
// order, that names no field of the struct it is decoded into, and the
// key; -1 if there is none or data does not parse. Keys match fields by
// json tag or field name: exactly, or ignoring case as encoding/json does.
// Keys of maps, of interface values and of types that decode themselves
// are never unknown.
func unknownField(data []byte, t reflect.Type, exact bool) (int64, string) {
	var stack []*jsonFrame
	dec := json.NewDecoder(bytes.NewReader(data))
	next := t // the type of the next value
	for {
		before := dec.InputOffset()
		tok, err := dec.Token()
		if err != nil {
			return -1, ""
		}
		if n := len(stack); n > 0 && stack[n-1].object && stack[n-1].key {
			top := stack[n-1]
			name, isKey := tok.(string)
			if !isKey { // the object ends
				stack = stack[:n-1]
				next = valueDone(stack)
				continue
			}
			ft, ok := fieldOf(top.t, name, exact)
			if !ok {
				for before < int64(len(data)) && strings.IndexByte(" \t\r\n,", data[before]) >= 0 {
					before++
				}
				return before, name
			}
			top.key, next = false, ft
			continue
		}
		switch tok {
		case json.Delim('{'):
			var st reflect.Type
			if d := deref(next); d != nil && d.Kind() == reflect.Struct && !decodesItself(d) {
				st = d
			}
			stack = append(stack, &jsonFrame{t: st, object: true, key: true})
		case json.Delim('['):
			var elem reflect.Type
			if d := deref(next); d != nil && (d.Kind() == reflect.Slice || d.Kind() == reflect.Array) && !decodesItself(d) {
				elem = d.Elem()
			}
			stack = append(stack, &jsonFrame{t: elem})
			next = elem
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:len(stack)-1]
			next = valueDone(stack)
		default:
			next = valueDone(stack)
		}
	}
}

// jsonFrame is an object or array unknownField is in.
type jsonFrame struct {
	t      reflect.Type // the struct of an object, the element type of an array; nil for anything
	object bool
	key    bool // the object's next token is a key
}

// valueDone moves the innermost object or array of stack past a value and
// returns the type of the value that may come next.
func valueDone(stack []*jsonFrame) reflect.Type {
	if len(stack) == 0 {
		return nil
	}
	top := stack[len(stack)-1]
	if top.object {
		top.key = true
		return nil
	}
	return top.t
}

func deref(t reflect.Type) reflect.Type {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t
}

var (
	jsonUnmarshaler = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()
)

func decodesItself(t reflect.Type) bool {
	p := reflect.PointerTo(t)
	return p.Implements(jsonUnmarshaler) || p.Implements(textUnmarshaler)
}

// fieldOf finds the field of struct t that key names, exactly or
// ignoring case, and returns its type; with t nil, any key is known.
func fieldOf(t reflect.Type, key string, exact bool) (reflect.Type, bool) {
	if t == nil {
		return nil, true
	}
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() && !f.Anonymous {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if f.Anonymous && name == "" {
			if ft, ok := fieldOf(structOrNil(deref(f.Type)), key, exact); ok && ft != nil {
				return ft, true
			}
			continue
		}
		if name == "" {
			name = f.Name
		}
		if name == key || !exact && strings.EqualFold(name, key) {
			return f.Type, true
		}
	}
	return nil, false
}

func structOrNil(t reflect.Type) reflect.Type {
	if t != nil && t.Kind() == reflect.Struct {
		return t
	}
	return nil
}
