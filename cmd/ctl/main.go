package main

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "stratactl: "+err.Error())
		os.Exit(1)
	}
}

const usage = `usage: stratactl COMMAND

  cluster keygen     print a new random cluster key (base64, 32 bytes)
`

func run(args []string, out io.Writer) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(out, usage)
		if len(args) == 0 {
			return errors.New("missing command")
		}
		return nil
	}
	switch strings.Join(args, " ") {
	case "cluster keygen":
		key, err := keygen()
		if err != nil {
			return err
		}
		fmt.Fprintln(out, key)
		return nil
	}
	return fmt.Errorf("unknown command %q (see stratactl --help)", strings.Join(args, " "))
}

// keygen returns 32 random bytes, base64: a cluster key.
func keygen() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(b), nil
}
