package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
)

// Parse reads a config document as people write it:
//
//	{"app":"shop","environment":"prod",
//	 "env":{"LOG_LEVEL":"info","PORT":"8080"},
//	 "secrets":{"DB_PASSWORD":"vault://kv/shop/prod#db_password"}}
//
// Layout and key order are free; unknown fields, duplicate keys, values
// that are not strings and trailing data are refused, each by name. The
// checks of [New] then apply.
func Parse(data []byte, opts Options) (*Config, error) {
	doc, err := parseDocument(data)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return New(doc.App, doc.Environment, Spec{Env: doc.Env, Secrets: doc.Secrets}, opts)
}

// ReadFile reads and parses the config document in the file at path, as
// [Parse] does; it reads at most [MaxSize] bytes. Errors name the file.
func ReadFile(path string, opts Options) (*Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxSize+1))
	if err != nil {
		return nil, fmt.Errorf("config: %s: %w", path, err)
	}
	if len(data) > MaxSize {
		return nil, fmt.Errorf("config: %s: %w: larger than %d bytes", path, ErrInvalidConfig, MaxSize)
	}
	doc, err := parseDocument(data)
	if err != nil {
		return nil, fmt.Errorf("config: %s: %w", path, err)
	}
	c, err := New(doc.App, doc.Environment, Spec{Env: doc.Env, Secrets: doc.Secrets}, opts)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

func parseDocument(data []byte) (document, error) {
	var doc document
	if len(data) > MaxSize {
		return doc, fmt.Errorf("%w: %d bytes exceeds %d", ErrInvalidConfig, len(data), MaxSize)
	}
	if err := checkDuplicates(data); err != nil {
		return doc, fmt.Errorf("%w: %w", ErrInvalidConfig, err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&doc); err != nil {
		return doc, fmt.Errorf("%w: %w", ErrInvalidConfig, describe(data, err))
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return doc, fmt.Errorf("%w: trailing data after the document at offset %d", ErrInvalidConfig, dec.InputOffset())
	}
	return doc, nil
}

// describe adds the line and column to a JSON error that has an offset,
// and never quotes the input.
func describe(data []byte, err error) error {
	var off int64 = -1
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		off = syn.Offset
	case errors.As(err, &typ):
		if typ.Field != "" {
			return fmt.Errorf("line %d: field %q: want %s, got JSON %s", lineOf(data, typ.Offset), typ.Field, typ.Type, typ.Value)
		}
		off = typ.Offset
	}
	if off < 0 {
		return err
	}
	line, col := position(data, off)
	return fmt.Errorf("line %d, column %d: %w", line, col, err)
}

func lineOf(data []byte, off int64) int {
	l, _ := position(data, off)
	return l
}

func position(data []byte, off int64) (line, col int) {
	off = min(max(off, 0), int64(len(data)))
	before := data[:off]
	line = bytes.Count(before, []byte("\n")) + 1
	col = int(off) - (bytes.LastIndexByte(before, '\n') + 1) + 1
	return line, col
}

// checkDuplicates refuses an object that names a key twice, which
// encoding/json would otherwise resolve silently by keeping the last.
func checkDuplicates(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	type frame struct {
		object bool
		keys   map[string]bool
		key    bool // next string token is a key
	}
	var stack []*frame
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return nil // syntax errors are reported by the decoder, with their place
		}
		var top *frame
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		if top != nil && top.object && top.key {
			if d, ok := tok.(json.Delim); ok && d == '}' {
				stack = stack[:len(stack)-1]
				continue
			}
			k, _ := tok.(string)
			if top.keys[k] {
				line, col := position(data, dec.InputOffset())
				return fmt.Errorf("line %d, column %d: key %q appears twice", line, col, k)
			}
			top.keys[k] = true
			top.key = false
			continue
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, &frame{object: true, keys: map[string]bool{}, key: true})
			if top != nil && top.object {
				top.key = true
			}
			continue
		case json.Delim('['):
			stack = append(stack, &frame{})
			if top != nil && top.object {
				top.key = true
			}
			continue
		case json.Delim(']'), json.Delim('}'):
			stack = stack[:len(stack)-1]
			if len(stack) > 0 && stack[len(stack)-1].object {
				stack[len(stack)-1].key = true
			}
			continue
		}
		if top != nil && top.object {
			top.key = true
		}
	}
}
