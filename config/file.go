package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// Parse reads a config document as people write it:
//
//	{"app":"shop","environment":"prod",
//	 "env":{"LOG_LEVEL":"info","PORT":"8080"},
//	 "secrets":{"DB_PASSWORD":"vault://kv/shop/prod#db_password"}}
//
// Layout and key order are free; "env" and "secrets" may be left out. Field
// names are matched exactly. Unknown fields, duplicate keys, values that are
// not strings (null included), trailing data and documents larger than
// [MaxSize] are refused with [ErrInvalidConfig], each error naming the field
// or variable and its line and column, never a value. The checks of [New]
// then apply.
func Parse(data []byte, opts Options) (*Config, error) {
	c, err := parse(data, opts)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return c, nil
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
	c, err := parse(data, opts)
	if err != nil {
		return nil, fmt.Errorf("config: %s: %w", path, err)
	}
	return c, nil
}

func parse(data []byte, opts Options) (*Config, error) {
	doc, err := parseDocument(data)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidConfig, err)
	}
	return newConfig(doc.App, doc.Environment, Spec{Env: doc.Env, Secrets: doc.Secrets}, opts)
}

// parseDocument reads data token by token rather than with
// json.Unmarshal, which matches field names without regard to case, keeps
// the last of duplicate keys, and quotes values in its errors.
func parseDocument(data []byte) (document, error) {
	var doc document
	if len(data) > MaxSize {
		return doc, fmt.Errorf("larger than %d bytes", MaxSize)
	}
	p := &parser{data: data, dec: json.NewDecoder(bytes.NewReader(data))}
	p.dec.UseNumber() // a number token is then never converted, nor quoted in an error
	seen := map[string]bool{}
	err := p.object("", "a JSON object", func(field string, at int64) error {
		if seen[field] {
			return p.errorf(at, "field %q appears twice", shown(field, maxVarLen))
		}
		seen[field] = true
		var err error
		switch field {
		case "app":
			doc.App, err = p.text(field)
		case "environment":
			doc.Environment, err = p.text(field)
		case "env":
			doc.Env, err = p.stringMap(field)
		case "secrets":
			doc.Secrets, err = p.stringMap(field)
		default:
			err = p.errorf(at, "unknown field %q (want app, environment, env, secrets)", shown(field, maxVarLen))
		}
		return err
	})
	if err != nil {
		return doc, err
	}
	if _, at, err := p.token(); !errors.Is(err, io.EOF) {
		return doc, p.errorf(at, "trailing data after the document")
	}
	return doc, nil
}

// parser reads JSON tokens and knows where each starts.
type parser struct {
	data []byte
	dec  *json.Decoder
}

// token returns the next token and its offset. At the end of the input it
// returns io.EOF; any other error carries its line and column.
func (p *parser) token() (json.Token, int64, error) {
	at := p.dec.InputOffset()
	for at < int64(len(p.data)) && strings.IndexByte(" \t\r\n,:", p.data[at]) >= 0 {
		at++ // what lies between tokens
	}
	tok, err := p.dec.Token()
	switch {
	case errors.Is(err, io.EOF):
		return nil, at, io.EOF
	case errors.Is(err, io.ErrUnexpectedEOF):
		return nil, at, p.errorf(int64(len(p.data)), "unexpected end of the document")
	case err != nil:
		// A syntax error's own offset is not always where the bad token
		// starts; at is. Its message quotes at most one character.
		return nil, at, p.errorf(at, "%s", err.Error())
	}
	return tok, at, nil
}

// value returns the next token, taking the end of input as an error: a
// value was due.
func (p *parser) value() (json.Token, int64, error) {
	tok, at, err := p.token()
	if errors.Is(err, io.EOF) {
		err = p.errorf(at, "unexpected end of the document")
	}
	return tok, at, err
}

// text reads the string value of field.
func (p *parser) text(field string) (string, error) {
	tok, at, err := p.value()
	if err != nil {
		return "", err
	}
	s, ok := tok.(string)
	if !ok {
		return "", p.errorf(at, "%s: want a string, got %s", field, kind(tok))
	}
	return s, nil
}

// stringMap reads the object of strings that is the value of field.
func (p *parser) stringMap(field string) (map[string]string, error) {
	m := map[string]string{}
	err := p.object(field+": ", "an object of strings", func(name string, at int64) error {
		if _, dup := m[name]; dup {
			return p.errorf(at, "%s: %q appears twice", field, shown(name, maxVarLen))
		}
		tok, at, err := p.value()
		if err != nil {
			return err
		}
		s, ok := tok.(string)
		if !ok {
			return p.errorf(at, "%s: %q: want a string, got %s", field, shown(name, maxVarLen), kind(tok))
		}
		m[name] = s
		return nil
	})
	return m, err
}

// object reads an object and calls member with each key and its offset;
// member reads the value. where prefixes the error if the next value is
// not an object, which says it wanted want.
func (p *parser) object(where, want string, member func(key string, at int64) error) error {
	tok, at, err := p.value()
	if err != nil {
		return err
	}
	if tok != json.Delim('{') {
		return p.errorf(at, "%swant %s, got %s", where, want, kind(tok))
	}
	for {
		tok, at, err := p.value()
		if err != nil {
			return err
		}
		if tok == json.Delim('}') {
			return nil
		}
		key, _ := tok.(string) // the decoder allows only strings as keys
		if err := member(key, at); err != nil {
			return err
		}
	}
}

// errorf is an error at offset off of the input, with its line and column
// (both from 1, the column in bytes).
func (p *parser) errorf(off int64, format string, args ...any) error {
	off = min(max(off, 0), int64(len(p.data)))
	before := p.data[:off]
	line := bytes.Count(before, []byte("\n")) + 1
	col := len(before) - (bytes.LastIndexByte(before, '\n') + 1) + 1
	return fmt.Errorf("line %d, column %d: %s", line, col, fmt.Sprintf(format, args...))
}

// kind names the JSON type of a token, for errors that must not quote it.
func kind(tok json.Token) string {
	switch tok := tok.(type) {
	case json.Delim:
		if tok == '[' {
			return "an array"
		}
		return "an object"
	case string:
		return "a string"
	case json.Number:
		return "a number"
	case bool:
		return "a boolean"
	default:
		return "null"
	}
}
