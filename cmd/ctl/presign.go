package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// presign prints a presigned URL: words are METHOD s3://BUCKET/KEY.
func presign(g globals, words []string, out io.Writer) error {
	if len(words) != 2 {
		return errors.New("usage: stratactl presign get|put|head|delete s3://BUCKET/KEY [--expires 1h]")
	}
	method := strings.ToUpper(words[0])
	rest, ok := strings.CutPrefix(words[1], "s3://")
	bucket, key, _ := strings.Cut(rest, "/")
	if !ok || bucket == "" || key == "" {
		return fmt.Errorf("presign: %q is not s3://BUCKET/KEY", words[1])
	}
	expires, err := parseDuration(g.expires)
	if err != nil {
		return fmt.Errorf("--expires: %w", err)
	}
	c, err := g.client()
	if err != nil {
		return err
	}
	u, err := c.Presign(context.Background(), method, bucket, key, expires, time.Now())
	if err != nil {
		return err
	}
	if g.json {
		fmt.Fprintf(out, "{\"url\": %q, \"expires\": %q}\n", u, time.Now().Add(expires).UTC().Format(time.RFC3339))
		return nil
	}
	fmt.Fprintln(out, u)
	return nil
}

// parseDuration reads the durations stratactl accepts everywhere: Go's
// (900s, 60m, 12h, 1h30m) plus whole days and weeks (2d, 1w).
func parseDuration(s string) (time.Duration, error) {
	for suffix, unit := range map[string]time.Duration{"d": 24 * time.Hour, "w": 7 * 24 * time.Hour} {
		if n, ok := strings.CutSuffix(s, suffix); ok {
			v, err := strconv.Atoi(n)
			if err != nil || v <= 0 {
				return 0, fmt.Errorf("%q: want a positive whole number of %s", s, map[string]string{"d": "days", "w": "weeks"}[suffix])
			}
			return time.Duration(v) * unit, nil
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%q: want e.g. 900s, 60m, 12h, 2d or 1w", s)
	}
	if d <= 0 {
		return 0, fmt.Errorf("%q: must be positive", s)
	}
	return d, nil
}
