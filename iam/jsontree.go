package iam

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// A policy document is read into a small ordered tree rather than into Go
// structs: encoding/json matches field names case-insensitively and keeps
// the last of duplicate keys, both of which would let a document mean
// something other than what a reader sees ("effect", or two "Effect"s).

type jsonKind int

const (
	jsonString jsonKind = iota
	jsonNumber
	jsonBool
	jsonNull
	jsonArray
	jsonObject
)

func (k jsonKind) String() string {
	return [...]string{"a string", "a number", "a boolean", "null", "an array", "an object"}[k]
}

type jsonValue struct {
	kind jsonKind
	str  string // string, number text, "true"/"false"
	arr  []jsonValue
	obj  []jsonField
}

type jsonField struct {
	name  string
	value jsonValue
}

// maxJSONDepth bounds nesting; a policy needs 5 levels (document,
// Statement array, statement, Condition, operator block, value array).
const maxJSONDepth = 8

// parseJSON reads exactly one JSON value from doc.
func parseJSON(doc []byte) (jsonValue, error) {
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	v, err := readJSON(dec, 0)
	if err != nil {
		return jsonValue{}, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return jsonValue{}, errors.New("trailing data after the JSON document")
	}
	return v, nil
}

func readJSON(dec *json.Decoder, depth int) (jsonValue, error) {
	if depth > maxJSONDepth {
		return jsonValue{}, fmt.Errorf("JSON nested deeper than %d levels", maxJSONDepth)
	}
	tok, err := dec.Token()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return jsonValue{}, errors.New("unexpected end of JSON")
		}
		return jsonValue{}, fmt.Errorf("invalid JSON: %v", err)
	}
	switch t := tok.(type) {
	case string:
		return jsonValue{kind: jsonString, str: t}, nil
	case json.Number:
		return jsonValue{kind: jsonNumber, str: t.String()}, nil
	case bool:
		if t {
			return jsonValue{kind: jsonBool, str: "true"}, nil
		}
		return jsonValue{kind: jsonBool, str: "false"}, nil
	case nil:
		return jsonValue{kind: jsonNull}, nil
	case json.Delim:
		switch t {
		case '[':
			v := jsonValue{kind: jsonArray}
			for dec.More() {
				e, err := readJSON(dec, depth+1)
				if err != nil {
					return jsonValue{}, err
				}
				v.arr = append(v.arr, e)
			}
			if _, err := dec.Token(); err != nil {
				return jsonValue{}, fmt.Errorf("invalid JSON: %v", err)
			}
			return v, nil
		case '{':
			v := jsonValue{kind: jsonObject}
			seen := map[string]bool{}
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return jsonValue{}, fmt.Errorf("invalid JSON: %v", err)
				}
				name, ok := kt.(string)
				if !ok {
					return jsonValue{}, errors.New("invalid JSON: object key is not a string")
				}
				if seen[name] {
					return jsonValue{}, fmt.Errorf("duplicate key %q", name)
				}
				seen[name] = true
				e, err := readJSON(dec, depth+1)
				if err != nil {
					return jsonValue{}, err
				}
				v.obj = append(v.obj, jsonField{name, e})
			}
			if _, err := dec.Token(); err != nil {
				return jsonValue{}, fmt.Errorf("invalid JSON: %v", err)
			}
			return v, nil
		}
	}
	return jsonValue{}, fmt.Errorf("invalid JSON: unexpected %v", tok)
}

// strings returns v as a list of strings: a string or a non-empty array of
// strings.
func (v jsonValue) strings() ([]string, error) {
	switch v.kind {
	case jsonString:
		return []string{v.str}, nil
	case jsonArray:
		if len(v.arr) == 0 {
			return nil, errors.New("is an empty array")
		}
		out := make([]string, 0, len(v.arr))
		for _, e := range v.arr {
			if e.kind != jsonString {
				return nil, fmt.Errorf("holds %s, want strings", e.kind)
			}
			out = append(out, e.str)
		}
		return out, nil
	}
	return nil, fmt.Errorf("is %s, want a string or an array of strings", v.kind)
}

// scalars is like strings but also accepts numbers and booleans, as
// condition values may be written {"s3:max-keys": 10} or
// {"aws:SecureTransport": false}.
func (v jsonValue) scalars() ([]string, error) {
	one := func(e jsonValue) (string, error) {
		switch e.kind {
		case jsonString, jsonNumber, jsonBool:
			return e.str, nil
		}
		return "", fmt.Errorf("holds %s, want strings, numbers or booleans", e.kind)
	}
	if v.kind != jsonArray {
		s, err := one(v)
		if err != nil {
			return nil, err
		}
		return []string{s}, nil
	}
	if len(v.arr) == 0 {
		return nil, errors.New("is an empty array")
	}
	out := make([]string, 0, len(v.arr))
	for _, e := range v.arr {
		s, err := one(e)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}
