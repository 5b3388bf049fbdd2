package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/sigstore/sigstore/pkg/signature"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/slipway-dev/slipway/attest"
)

// Names of the key files keygen writes.
const (
	privateKeyFile = "slipway.key"
	publicKeyFile  = "slipway.pub"
)

// Environment variables that hold the password of an encrypted key, in
// the order they are read.
var passwordEnv = []string{"SLIPWAY_PASSWORD", "COSIGN_PASSWORD"}

func newKeygenCmd() *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "keygen --out DIR",
		Short: "Make a key pair for signing releases",
		Long: `Keygen makes a new ECDSA P-256 key pair for signing releases and writes it to
DIR: the private key to DIR/slipway.key (PEM, PKCS#8, unencrypted, mode 0600)
and the public key to DIR/slipway.pub (PEM, PKIX), which is what verifiers
need. Existing files are never overwritten. It prints the paths and the key's
ID, the base64 SHA-256 of the public key, which is also how sigstore bundles
name it.

cosign reads both files: cosign verify --key DIR/slipway.pub checks what
slipway release --key DIR/slipway.key signed. slipway also signs with keys from
cosign generate-key-pair.

Exit status: 0 if the keys are written, 2 otherwise.`,
		Example: `  slipway keygen --out ./keys
  slipway release --key ./keys/slipway.key --build v1 --config prod.json 127.0.0.1:5000/shop:prod
  slipway verify --key ./keys/slipway.pub 127.0.0.1:5000/shop:prod`,
		Args: wantArgs(),
		RunE: action(func(cmd *cobra.Command, _ []string) error {
			return keygen(cmd.Context(), out, cmd.OutOrStdout())
		}),
	}
	cmd.Flags().StringVar(&out, "out", "", "write the key pair into `DIR`, made if missing (required)")
	_ = cmd.MarkFlagRequired("out")
	return cmd
}

func keygen(ctx context.Context, dir string, stdout io.Writer) error {
	priv, pub, err := attest.GenerateKey()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("--out: %w", err)
	}
	privPath, pubPath := filepath.Join(dir, privateKeyFile), filepath.Join(dir, publicKeyFile)
	for _, p := range []string{privPath, pubPath} {
		if _, err := os.Lstat(p); err == nil {
			return &hinted{fmt.Errorf("--out: %s exists", p), "keygen never overwrites a key: choose another directory, or move the old keys away"}
		}
	}
	if err := writeNew(privPath, priv, 0o600); err != nil {
		return err
	}
	if err := writeNew(pubPath, pub, 0o644); err != nil {
		_ = os.Remove(privPath) // the pair is written whole or not at all
		return err
	}
	v, err := attest.LoadPublicKey(pub)
	if err != nil {
		return err
	}
	id, err := attest.KeyIDOf(ctx, v)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Private key: %s (keep it secret)\nPublic key: %s\nKey ID: %s\n", privPath, pubPath, id)
	return nil
}

// writeNew writes data to a new file path with mode perm; an existing
// file is an error and is left as it is.
func writeNew(path string, data []byte, perm os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return fmt.Errorf("--out: %w", err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(path)
		return fmt.Errorf("--out: write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		os.Remove(path)
		return fmt.Errorf("--out: write %s: %w", path, err)
	}
	return nil
}

// loadSigner reads the private key file path (a PEM key or a cosign key);
// the password of an encrypted key comes from SLIPWAY_PASSWORD, else
// COSIGN_PASSWORD, else a prompt on the terminal.
func loadSigner(path string, stderr io.Writer) (signature.Signer, error) {
	s, err := attest.LoadPrivateKeyFile(path, func() ([]byte, error) { return password(path, stderr) })
	if err != nil {
		if errors.Is(err, attest.ErrKeyPassword) {
			return nil, &hinted{fmt.Errorf("--key: %w", err), "the password comes from SLIPWAY_PASSWORD, else COSIGN_PASSWORD"}
		}
		return nil, fmt.Errorf("--key: %w", err)
	}
	return s, nil
}

// errNoPassword: an encrypted key and nowhere to read its password from.
var errNoPassword = errors.New("the key is encrypted and no password is set: set SLIPWAY_PASSWORD or COSIGN_PASSWORD")

func password(path string, stderr io.Writer) ([]byte, error) {
	for _, name := range passwordEnv {
		if v, ok := os.LookupEnv(name); ok {
			return []byte(v), nil
		}
	}
	fd := int(os.Stdin.Fd())
	if !term.IsTerminal(fd) {
		return nil, errNoPassword
	}
	fmt.Fprintf(stderr, "Password for %s: ", path)
	pw, err := term.ReadPassword(fd)
	fmt.Fprintln(stderr)
	return pw, err
}

// loadVerifiers reads the public key files paths.
func loadVerifiers(paths []string) ([]signature.Verifier, error) {
	var out []signature.Verifier
	for _, p := range paths {
		v, err := attest.LoadPublicKeyFile(p)
		if err != nil {
			return nil, fmt.Errorf("--key: %w", err)
		}
		out = append(out, v)
	}
	return out, nil
}
