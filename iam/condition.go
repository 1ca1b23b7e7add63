package iam

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"math"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// Condition operators, as the IAM JSON policy reference defines them
// ("IAM JSON policy elements: Condition operators"). Each operator is a
// base comparison, optionally negated, optionally ...IfExists, optionally
// qualified by ForAnyValue: or ForAllValues:.

type opFamily uint8

const (
	famString opFamily = iota
	famNumeric
	famDate
	famBool
	famIP
	famARN
	famBinary
	famNull
)

type opCompare uint8

const (
	cmpEquals opCompare = iota
	cmpEqualsIgnoreCase
	cmpLike
	cmpLess
	cmpLessEquals
	cmpGreater
	cmpGreaterEquals
)

type setQualifier uint8

const (
	setNone setQualifier = iota
	setAnyValue
	setAllValues
)

type operator struct {
	family   opFamily
	cmp      opCompare
	negate   bool
	ifExists bool
	set      setQualifier
}

// baseOperators maps every operator name without qualifier or IfExists.
var baseOperators = map[string]operator{
	"StringEquals":              {family: famString, cmp: cmpEquals},
	"StringNotEquals":           {family: famString, cmp: cmpEquals, negate: true},
	"StringEqualsIgnoreCase":    {family: famString, cmp: cmpEqualsIgnoreCase},
	"StringNotEqualsIgnoreCase": {family: famString, cmp: cmpEqualsIgnoreCase, negate: true},
	"StringLike":                {family: famString, cmp: cmpLike},
	"StringNotLike":             {family: famString, cmp: cmpLike, negate: true},
	"NumericEquals":             {family: famNumeric, cmp: cmpEquals},
	"NumericNotEquals":          {family: famNumeric, cmp: cmpEquals, negate: true},
	"NumericLessThan":           {family: famNumeric, cmp: cmpLess},
	"NumericLessThanEquals":     {family: famNumeric, cmp: cmpLessEquals},
	"NumericGreaterThan":        {family: famNumeric, cmp: cmpGreater},
	"NumericGreaterThanEquals":  {family: famNumeric, cmp: cmpGreaterEquals},
	"DateEquals":                {family: famDate, cmp: cmpEquals},
	"DateNotEquals":             {family: famDate, cmp: cmpEquals, negate: true},
	"DateLessThan":              {family: famDate, cmp: cmpLess},
	"DateLessThanEquals":        {family: famDate, cmp: cmpLessEquals},
	"DateGreaterThan":           {family: famDate, cmp: cmpGreater},
	"DateGreaterThanEquals":     {family: famDate, cmp: cmpGreaterEquals},
	"Bool":                      {family: famBool, cmp: cmpEquals},
	"BinaryEquals":              {family: famBinary, cmp: cmpEquals},
	"IpAddress":                 {family: famIP, cmp: cmpEquals},
	"NotIpAddress":              {family: famIP, cmp: cmpEquals, negate: true},
	"ArnEquals":                 {family: famARN, cmp: cmpLike},
	"ArnNotEquals":              {family: famARN, cmp: cmpLike, negate: true},
	"ArnLike":                   {family: famARN, cmp: cmpLike},
	"ArnNotLike":                {family: famARN, cmp: cmpLike, negate: true},
	"Null":                      {family: famNull},
}

// parseOperator parses a full operator name such as
// "ForAllValues:StringLikeIfExists". Operator names are case-sensitive,
// as in AWS.
func parseOperator(name string) (operator, error) {
	rest := name
	var set setQualifier
	switch {
	case strings.HasPrefix(rest, "ForAnyValue:"):
		set, rest = setAnyValue, strings.TrimPrefix(rest, "ForAnyValue:")
	case strings.HasPrefix(rest, "ForAllValues:"):
		set, rest = setAllValues, strings.TrimPrefix(rest, "ForAllValues:")
	}
	ifExists := false
	if r, ok := strings.CutSuffix(rest, "IfExists"); ok {
		rest, ifExists = r, true
	}
	op, ok := baseOperators[rest]
	if !ok {
		return operator{}, fmt.Errorf("has unknown operator %q", name)
	}
	if op.family == famNull && (ifExists || set != setNone) {
		return operator{}, fmt.Errorf("has invalid operator %q (Null takes no qualifier and no IfExists)", name)
	}
	op.ifExists, op.set = ifExists, set
	return op, nil
}

type condValue struct {
	pat    pattern // string family: compiled value (variables; wildcards for Like)
	num    float64
	time   time.Time
	prefix netip.Prefix
	bool   bool
	bin    []byte
	arn    [6]pattern // ARN family: one pattern per colon-separated part
}

type condition struct {
	op     operator
	name   string // operator as written, for messages
	key    string // lower-cased context key
	values []condValue
}

// parseConditions reads {"Operator": {"key": value(s), ...}, ...}.
func parseConditions(v jsonValue, variables bool) ([]condition, error) {
	if v.kind != jsonObject {
		return nil, fmt.Errorf("is %s, want an object of operators", v.kind)
	}
	if len(v.obj) == 0 {
		return nil, errors.New("is empty")
	}
	var out []condition
	for _, of := range v.obj {
		op, err := parseOperator(of.name)
		if err != nil {
			return nil, err
		}
		if of.value.kind != jsonObject || len(of.value.obj) == 0 {
			return nil, fmt.Errorf("%s: want a non-empty object of condition keys", of.name)
		}
		seen := map[string]bool{}
		for _, kf := range of.value.obj {
			key := strings.ToLower(kf.name)
			if !validKeyName(kf.name) {
				return nil, fmt.Errorf("%s: invalid condition key %q (want prefix:name, e.g. aws:SourceIp)", of.name, kf.name)
			}
			// Key names are case-insensitive, so "s3:Prefix" and
			// "s3:prefix" in one block are the same key written twice.
			if seen[key] {
				return nil, fmt.Errorf("%s: condition key %q given twice", of.name, kf.name)
			}
			seen[key] = true
			raw, err := kf.value.scalars()
			if err != nil {
				return nil, fmt.Errorf("%s: %s %v", of.name, kf.name, err)
			}
			c := condition{op: op, name: of.name, key: key}
			for _, s := range raw {
				cv, err := parseCondValue(op, s, variables)
				if err != nil {
					return nil, fmt.Errorf("%s: %s: value %q %v", of.name, kf.name, s, err)
				}
				c.values = append(c.values, cv)
			}
			out = append(out, c)
		}
	}
	return out, nil
}

func parseCondValue(op operator, s string, variables bool) (condValue, error) {
	var cv condValue
	var err error
	switch op.family {
	case famString:
		// Policy variables work in string conditions; wildcards only in
		// the Like operators.
		cv.pat, err = compilePattern(s, op.cmp == cmpLike, variables)
	case famARN:
		parts := strings.SplitN(s, ":", 6)
		if len(parts) != 6 || parts[0] != "arn" {
			return cv, errors.New("is not an ARN")
		}
		for i, part := range parts {
			if cv.arn[i], err = compilePattern(part, true, variables); err != nil {
				return cv, err
			}
		}
	case famNumeric:
		cv.num, err = parseNumber(s)
	case famDate:
		cv.time, err = parseDate(s)
	case famBool:
		cv.bool, err = parseBool(s)
	case famNull:
		cv.bool, err = parseBool(s)
	case famIP:
		cv.prefix, err = parsePrefix(s)
	case famBinary:
		cv.bin, err = base64.StdEncoding.DecodeString(s)
		if err != nil {
			err = errors.New("is not base64")
		}
	}
	return cv, err
}

func parseNumber(s string) (float64, error) {
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, errors.New("is not a number")
	}
	return f, nil
}

// parseDate accepts the ISO 8601 forms AWS documents (2024-01-31,
// 2024-01-31T12:00:00Z, with fractions or an offset) and epoch seconds.
func parseDate(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		if n < -1e12 || n > 1e12 {
			return time.Time{}, errors.New("is an epoch time out of range")
		}
		return time.Unix(n, 0), nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05Z0700", "2006-01-02T15:04Z07:00", "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, errors.New("is not a date (ISO 8601, e.g. 2024-01-31T00:00:00Z, or epoch seconds)")
}

func parseBool(s string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, errors.New(`is not "true" or "false"`)
}

// parsePrefix accepts a CIDR block or a single address, IPv4 or IPv6.
func parsePrefix(s string) (netip.Prefix, error) {
	s = strings.TrimSpace(s)
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, errors.New("is not a CIDR block")
		}
		if p.Addr().Is4In6() {
			p = netip.PrefixFrom(p.Addr().Unmap(), max(p.Bits()-96, 0))
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, errors.New("is not an IP address or CIDR block")
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// eval evaluates c against ctx. unresolved is set when a policy variable
// in a value could not be resolved (that value then matches nothing).
//
// The rules are AWS's: a key absent from the request makes the condition
// false, except that negated operators (StringNotEquals, NotIpAddress,
// ...) are then true, ...IfExists is true, ForAllValues is true and Null
// tests exactly the absence. Several values for one key are ORed (NORed
// for negated operators).
func (c *condition) eval(ctx map[string][]string, unresolved *bool) bool {
	vals := ctx[c.key]
	present := len(vals) > 0
	if c.op.family == famNull {
		for _, v := range c.values {
			if v.bool == !present {
				return true
			}
		}
		return false
	}
	if !present {
		switch {
		case c.op.ifExists:
			return true
		case c.op.set == setAllValues:
			return true
		case c.op.set == setAnyValue:
			return false
		}
		return c.op.negate
	}
	switch c.op.set {
	case setAnyValue:
		for _, v := range vals {
			if c.matchAny(v, ctx, unresolved) != c.op.negate {
				return true
			}
		}
		return false
	case setAllValues:
		for _, v := range vals {
			if c.matchAny(v, ctx, unresolved) == c.op.negate {
				return false
			}
		}
		return true
	}
	for _, v := range vals {
		if c.matchAny(v, ctx, unresolved) {
			return !c.op.negate
		}
	}
	return c.op.negate
}

// matchAny reports whether the request value v satisfies the positive
// (non-negated) comparison with at least one of the policy's values.
func (c *condition) matchAny(v string, ctx map[string][]string, unresolved *bool) bool {
	switch c.op.family {
	case famString:
		for i := range c.values {
			p := &c.values[i].pat
			switch c.op.cmp {
			case cmpLike:
				if p.match(v, ctx, false, unresolved) {
					return true
				}
			default:
				lit, ok := p.literal(ctx)
				if !ok {
					*unresolved = true
					continue
				}
				if c.op.cmp == cmpEqualsIgnoreCase && strings.EqualFold(lit, v) || lit == v {
					return true
				}
			}
		}
	case famARN:
		parts := strings.SplitN(v, ":", 6)
		if len(parts) != 6 {
			return false
		}
	values:
		for i := range c.values {
			for j := range parts {
				if !c.values[i].arn[j].match(parts[j], ctx, false, unresolved) {
					continue values
				}
			}
			return true
		}
	case famNumeric:
		n, err := parseNumber(v)
		if err != nil {
			return false
		}
		for _, pv := range c.values {
			if compareOrdered(c.op.cmp, cmpFloat(n, pv.num)) {
				return true
			}
		}
	case famDate:
		t, err := parseDate(v)
		if err != nil {
			return false
		}
		for _, pv := range c.values {
			if compareOrdered(c.op.cmp, t.Compare(pv.time)) {
				return true
			}
		}
	case famBool:
		b, err := parseBool(v)
		if err != nil {
			return false
		}
		for _, pv := range c.values {
			if b == pv.bool {
				return true
			}
		}
	case famIP:
		a, err := netip.ParseAddr(strings.TrimSpace(v))
		if err != nil {
			return false
		}
		a = a.Unmap()
		for _, pv := range c.values {
			if pv.prefix.Contains(a) {
				return true
			}
		}
	case famBinary:
		b, err := base64.StdEncoding.DecodeString(v)
		if err != nil {
			return false
		}
		for _, pv := range c.values {
			if bytes.Equal(b, pv.bin) {
				return true
			}
		}
	}
	return false
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func compareOrdered(cmp opCompare, c int) bool {
	switch cmp {
	case cmpEquals:
		return c == 0
	case cmpLess:
		return c < 0
	case cmpLessEquals:
		return c <= 0
	case cmpGreater:
		return c > 0
	case cmpGreaterEquals:
		return c >= 0
	}
	return false
}
