package iam

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// A pattern is a compiled Action, Resource, Principal-free string or
// condition value: literal text, the wildcards * (any run of characters,
// also empty) and ? (exactly one character), and policy variables
// ${key} / ${key, 'default'} that are replaced, as literal text, by the
// request's value of key. ${*}, ${?} and ${$} stand for the literal
// characters. Variables exist only in Version 2012-10-17 documents.

type tokKind uint8

const (
	tokLit tokKind = iota
	tokStar
	tokQuest
	tokVar
)

type token struct {
	kind   tokKind
	text   string // tokLit: the text; tokVar: the lower-cased key
	def    string // tokVar: default value
	hasDef bool
}

type pattern struct {
	raw  string // the text as written; for a plain pattern, its literal text
	toks []token
	// wild reports a * or ? token; vars reports a variable. A pattern with
	// neither is compared as a plain string.
	wild, vars bool
}

// compilePattern compiles s. wildcards says whether * and ? are
// wildcards (false for StringEquals values); variables whether ${...} is
// interpreted (Version 2012-10-17, and only where AWS supports it).
func compilePattern(s string, wildcards, variables bool) (pattern, error) {
	p := pattern{raw: s}
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			p.toks = append(p.toks, token{kind: tokLit, text: lit.String()})
			lit.Reset()
		}
	}
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case wildcards && c == '*':
			flush()
			// Consecutive stars are one star.
			if n := len(p.toks); n == 0 || p.toks[n-1].kind != tokStar {
				p.toks = append(p.toks, token{kind: tokStar})
			}
			p.wild = true
			i++
		case wildcards && c == '?':
			flush()
			p.toks = append(p.toks, token{kind: tokQuest})
			p.wild = true
			i++
		case variables && c == '$' && i+1 < len(s) && s[i+1] == '{':
			end := strings.IndexByte(s[i:], '}')
			if end < 0 {
				return pattern{}, errors.New("has an unterminated policy variable ${")
			}
			body := s[i+2 : i+end]
			i += end + 1
			switch body {
			case "*", "?", "$":
				lit.WriteString(body)
				continue
			}
			tok, err := parseVariable(body)
			if err != nil {
				return pattern{}, err
			}
			flush()
			p.toks = append(p.toks, tok)
			p.vars = true
		default:
			lit.WriteByte(c)
			i++
		}
	}
	flush()
	if !p.wild && !p.vars {
		// ${*}, ${?} and ${$} were replaced: keep the literal text for the
		// plain comparison of match and literal.
		var b strings.Builder
		for _, t := range p.toks {
			b.WriteString(t.text)
		}
		p.raw = b.String()
	}
	return p, nil
}

// parseVariable parses the inside of ${...}: a condition key, optionally
// followed by ", 'default'" (a doubled ” is a quote in the default).
func parseVariable(body string) (token, error) {
	key, def, hasDef := strings.Cut(body, ",")
	key = strings.TrimSpace(key)
	if !validKeyName(key) {
		return token{}, fmt.Errorf("has an invalid policy variable ${%s}", body)
	}
	t := token{kind: tokVar, text: strings.ToLower(key)}
	if hasDef {
		def = strings.TrimSpace(def)
		if len(def) < 2 || def[0] != '\'' || def[len(def)-1] != '\'' {
			return token{}, fmt.Errorf("policy variable ${%s}: the default value must be in single quotes", body)
		}
		inner := def[1 : len(def)-1]
		if strings.Contains(strings.ReplaceAll(inner, "''", ""), "'") {
			return token{}, fmt.Errorf("policy variable ${%s}: a quote in the default value must be doubled", body)
		}
		t.def, t.hasDef = strings.ReplaceAll(inner, "''", "'"), true
	}
	return t, nil
}

// validKeyName reports whether s can name a condition key: "prefix:name"
// with an optional "/qualifier" (tag keys) of printable characters.
func validKeyName(s string) bool {
	prefix, name, ok := strings.Cut(s, ":")
	if !ok || prefix == "" || name == "" || len(s) > 256 {
		return false
	}
	for _, c := range prefix {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	for _, c := range name {
		if c <= ' ' || c == 0x7f || c == '$' || c == '{' || c == '}' || c == '\'' || c == ',' || c == '*' || c == '?' {
			return false
		}
	}
	return true
}

// resolve returns the tokens of p with variables replaced by literal text
// from ctx. ok is false when a variable has no single value and no
// default: AWS then treats the element as not matching.
func (p *pattern) resolve(ctx map[string][]string, buf []token) ([]token, bool) {
	out := buf[:0]
	for _, t := range p.toks {
		if t.kind != tokVar {
			out = append(out, t)
			continue
		}
		vals := ctx[t.text]
		switch {
		case len(vals) == 1:
			out = append(out, token{kind: tokLit, text: vals[0]})
		case t.hasDef:
			out = append(out, token{kind: tokLit, text: t.def})
		default:
			return nil, false
		}
	}
	return out, true
}

// literal returns the resolved text of a wildcard-free pattern.
func (p *pattern) literal(ctx map[string][]string) (string, bool) {
	if !p.vars {
		return p.raw, true
	}
	var b strings.Builder
	for _, t := range p.toks {
		switch t.kind {
		case tokLit:
			b.WriteString(t.text)
		case tokVar:
			vals := ctx[t.text]
			switch {
			case len(vals) == 1:
				b.WriteString(vals[0])
			case t.hasDef:
				b.WriteString(t.def)
			default:
				return "", false
			}
		}
	}
	return b.String(), true
}

// match reports whether s matches p. fold compares ASCII letters without
// case (action names). unresolved is set when a variable could not be
// resolved; the pattern then does not match.
func (p *pattern) match(s string, ctx map[string][]string, fold bool, unresolved *bool) bool {
	if !p.wild && !p.vars {
		if fold {
			return asciiEqualFold(p.raw, s)
		}
		return p.raw == s
	}
	if len(p.toks) == 1 && p.toks[0].kind == tokStar {
		return true
	}
	toks := p.toks
	if p.vars {
		var buf [8]token
		var ok bool
		toks, ok = p.resolve(ctx, buf[:])
		if !ok {
			if unresolved != nil {
				*unresolved = true
			}
			return false
		}
	}
	return globMatch(toks, s, fold)
}

// globMatch matches s against literal, * and ? tokens. It is the classic
// linear-time wildcard algorithm that backtracks only to the last star.
func globMatch(toks []token, s string, fold bool) bool {
	ti, si := 0, 0
	starTi, starSi := -1, 0
	for {
		if ti < len(toks) {
			t := toks[ti]
			switch t.kind {
			case tokStar:
				starTi, starSi = ti, si
				ti++
				continue
			case tokQuest:
				if si < len(s) {
					_, n := utf8.DecodeRuneInString(s[si:])
					si += n
					ti++
					continue
				}
			case tokLit:
				if len(s)-si >= len(t.text) && litEqual(s[si:si+len(t.text)], t.text, fold) {
					si += len(t.text)
					ti++
					continue
				}
			}
		} else if si == len(s) {
			return true
		}
		// Mismatch: let the last star swallow one more character.
		if starTi < 0 || starSi >= len(s) {
			return false
		}
		_, n := utf8.DecodeRuneInString(s[starSi:])
		starSi += n
		ti, si = starTi+1, starSi
	}
}

func litEqual(a, b string, fold bool) bool {
	if fold {
		return asciiEqualFold(a, b)
	}
	return a == b
}

// asciiEqualFold is strings.EqualFold restricted to ASCII letters, so
// that it never equates strings of different byte lengths.
func asciiEqualFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if x == y {
			continue
		}
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}
