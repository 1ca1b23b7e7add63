package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// stsUsage documents the sts command.
const stsUsage = "usage: stratactl sts assume-role --access-key AK [--secret-key SK] [--policy-file F] [--duration 1h] [--role-arn ARN] [--role-session-name N]"

// stsCommand runs "sts assume-role": AssumeRole on the S3 endpoint with
// the user's keys (the secret key is asked for when not given: read
// without echo from a terminal, else a line of stdin), printing the
// temporary credentials as export lines (or JSON with --json).
func stsCommand(g globals, words []string, local map[string]string, stdin io.Reader, out io.Writer) error {
	if len(words) != 2 || words[1] != "assume-role" {
		return errors.New(stsUsage)
	}
	if g.endpoint == "" || g.accessKey == "" {
		return errors.New("sts assume-role needs an endpoint and an access key: --endpoint/--access-key or STRATA_ENDPOINT/STRATA_ACCESS_KEY")
	}
	duration := time.Hour
	if v := local["duration"]; v != "" {
		d, err := parseDuration(v)
		if err != nil {
			return fmt.Errorf("--duration: %w", err)
		}
		if d%time.Second != 0 || d < 15*time.Minute || d > 7*24*time.Hour {
			return fmt.Errorf("--duration %s: want whole seconds from 15m to 1w", v)
		}
		duration = d
	}
	form := url.Values{
		"Action":          {"AssumeRole"},
		"Version":         {"2011-06-15"},
		"RoleArn":         {first(local["role-arn"], "arn:aws:iam::strata:role/stratactl")},
		"RoleSessionName": {first(local["role-session-name"], "stratactl-"+strconv.FormatInt(time.Now().Unix(), 10))},
		"DurationSeconds": {strconv.FormatInt(int64(duration/time.Second), 10)},
	}
	if f := local["policy-file"]; f != "" {
		doc, err := readFileOrStdin(f, stdin)
		if err != nil {
			return fmt.Errorf("--policy-file: %w", err)
		}
		form.Set("Policy", string(doc))
	}
	secret := g.secretKey
	if secret == "" {
		var err error
		if secret, err = askSecret(stdin, os.Stderr, "Secret key for "+g.accessKey+": "); err != nil {
			return err
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	creds, err := assumeRole(ctx, g.endpoint, g.region, g.accessKey, secret, form)
	if err != nil {
		return err
	}
	if g.json {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(creds)
	}
	fmt.Fprintf(out, "export AWS_ACCESS_KEY_ID=%s\nexport AWS_SECRET_ACCESS_KEY=%s\nexport AWS_SESSION_TOKEN=%s\n# expires %s\n",
		creds.AccessKeyID, creds.SecretAccessKey, creds.SessionToken, creds.Expiration)
	return nil
}

// stsCredentials are the temporary credentials AssumeRole returns.
type stsCredentials struct {
	AccessKeyID     string `xml:"AccessKeyId" json:"access_key_id"`
	SecretAccessKey string `xml:"SecretAccessKey" json:"secret_access_key"`
	SessionToken    string `xml:"SessionToken" json:"session_token"`
	Expiration      string `xml:"Expiration" json:"expiration"`
}

// assumeRole sends the AssumeRole form, SigV4-signed for service sts, and
// returns the credentials or the STS error.
func assumeRole(ctx context.Context, endpoint, region, ak, sk string, form url.Values) (stsCredentials, error) {
	if !strings.Contains(endpoint, "://") {
		endpoint = "http://" + endpoint
	}
	body := []byte(form.Encode())
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(endpoint, "/")+"/", bytes.NewReader(body))
	if err != nil {
		return stsCredentials{}, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	sum := sha256.Sum256(body)
	if err := v4.NewSigner().SignHTTP(ctx, aws.Credentials{AccessKeyID: ak, SecretAccessKey: sk}, req, hex.EncodeToString(sum[:]), "sts", region, time.Now()); err != nil {
		return stsCredentials{}, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return stsCredentials{}, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return stsCredentials{}, err
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Error struct {
				Code    string `xml:"Code"`
				Message string `xml:"Message"`
			} `xml:"Error"`
		}
		if xml.Unmarshal(data, &e) == nil && e.Error.Code != "" {
			return stsCredentials{}, fmt.Errorf("%s: %s (HTTP %d)", e.Error.Code, e.Error.Message, resp.StatusCode)
		}
		return stsCredentials{}, fmt.Errorf("AssumeRole: HTTP %d", resp.StatusCode)
	}
	var ok struct {
		Credentials stsCredentials `xml:"AssumeRoleResult>Credentials"`
	}
	if err := xml.Unmarshal(data, &ok); err != nil || ok.Credentials.AccessKeyID == "" {
		return stsCredentials{}, fmt.Errorf("AssumeRole: unreadable response (%v)", err)
	}
	return ok.Credentials, nil
}

// readFileOrStdin reads a file, or stdin for "-".
func readFileOrStdin(name string, stdin io.Reader) ([]byte, error) {
	if name == "-" {
		return io.ReadAll(stdin)
	}
	return os.ReadFile(name)
}

// askSecret reads a secret: from a terminal with the prompt on prompt
// and echo off (stty), else the first line of in.
func askSecret(in io.Reader, prompt io.Writer, text string) (string, error) {
	f, isFile := in.(*os.File)
	if isFile && isTerminal(f) {
		fmt.Fprint(prompt, text)
		if err := stty(f, "-echo"); err == nil {
			defer func() {
				_ = stty(f, "echo")
				fmt.Fprintln(prompt)
			}()
		}
	}
	line, err := bufio.NewReader(in).ReadString('\n')
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		if err != nil && err != io.EOF {
			return "", fmt.Errorf("read secret key: %w", err)
		}
		return "", errors.New("no secret key given (--secret-key, STRATA_SECRET_KEY or stdin)")
	}
	return line, nil
}

// isTerminal reports whether f is a character device (a terminal).
func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// stty runs stty on the terminal f.
func stty(f *os.File, arg string) error {
	cmd := exec.Command("stty", arg)
	cmd.Stdin = f
	return cmd.Run()
}
