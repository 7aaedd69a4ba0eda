package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/authbench/authbench/schemes"
)

// runKeys is `authbench keys DIR NAME`: a CURVE keypair in the ZeroMQ
// certificate format (DIR/NAME.key and DIR/NAME.key_secret, 0600).
func runKeys(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("keys", stderr)
	force := fs.Bool("force", false, "replace an existing keypair of the same NAME")
	if err := parse(fs, args, 2); err != nil {
		return err
	}
	if fs.NArg() != 2 {
		return errors.New("keys: want DIR NAME")
	}
	if !*force {
		for _, p := range schemes.KeyPairPaths(fs.Arg(0), fs.Arg(1)) {
			if _, err := os.Lstat(p); err == nil {
				return fmt.Errorf("keys: %s exists; give -force to replace the keypair (its secret key is lost)", p)
			}
		}
	}
	pub, sec, z85, err := schemes.WriteKeyPair(fs.Arg(0), fs.Arg(1))
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "public key %s\nwrote %s\nwrote %s (0600)\n", z85, pub, sec)
	return nil
}
