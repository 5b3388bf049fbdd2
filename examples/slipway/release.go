package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"strings"
	"time"

	"github.com/opencontainers/go-digest"
	"github.com/spf13/cobra"
	"oras.land/oras-go/v2/errdef"

	"github.com/slipway-dev/slipway/build"
	"github.com/slipway-dev/slipway/config"
	"github.com/slipway-dev/slipway/release"
)

// releaseFlags are the settings of slipway release, as its flags give them.
type releaseFlags struct {
	build          string
	config         string
	allowPlaintext []string
	plainHTTP      bool
	ociLayout      bool
	key            string
}

func newReleaseCmd() *cobra.Command {
	var f releaseFlags
	cmd := &cobra.Command{
		Use:   "release --build BUILD --config FILE [flags] REF",
		Short: "Release a build with a config to an environment",
		Long: `Release combines a build and a config into the next release of the app in the
config's environment, and adds it to that environment's ledger in REF, the app's
repository: an append-only chain in which each release names the one before it
by digest. The release is tagged with its version, ENV-vN (e.g. prod-v3), and
the environment's tag ENV (e.g. prod) moves to it.

REF is the app's repository:
  HOST[:PORT]/REPO[:ENV]   a registry repository (HTTPS; --plain-http for HTTP)
  DIR[:ENV]                an OCI image layout, with --oci-layout
The environment is the config's; a tag in REF, if given, must be the same.

BUILD is the build to release, and must be stored in REF's repository (or
layout) already:
  TAG or DIGEST            resolved in REF's repository, e.g. v1 or sha256:…
  a full reference         HOST[:PORT]/REPO:TAG, HOST[:PORT]/REPO@DIGEST, or
                           DIR:TAG, DIR@DIGEST with --oci-layout
A build stored elsewhere is refused, with the oras cp command that copies it.

FILE is a JSON config document:
  {"app": "shop", "environment": "prod",
   "env": {"LOG_LEVEL": "info", "PORT": "8080"},
   "secrets": {"DB_PASSWORD": "vault://kv/shop/prod#db_password"}}
Secrets are references (vault://…, env://NAME, file:///…), resolved only when
the release runs, never here. A plain variable that looks like a secret value,
by its name or its shape, is refused, naming the variable and the rule but
never the value; --allow-plaintext NAME admits one that is no secret, and the
release's security summary records it.

Another publisher may add to the same ledger at the same time: every release
either lands on the ledger or is refused whole. When refused, release tries
again, up to 8 times, saying so on stderr.

The release's creation time is the current time, or SOURCE_DATE_EPOCH (seconds
since the Unix epoch) if set. The output ends with the release's reference by
digest, HOST[:PORT]/REPO@DIGEST or DIR@DIGEST, on a line of its own.

Exit status: 0 if the release is stored, 2 on bad input or any other error.`,
		Example: `  slipway build --plain-http --dir dist --app shop 127.0.0.1:5000/shop:v1
  slipway release --plain-http --build v1 --config prod.json 127.0.0.1:5000/shop:prod

  slipway release --oci-layout --build ./shop:v1 --config staging.json ./shop`,
		Args: wantArgs("REF"),
		RunE: action(func(cmd *cobra.Command, args []string) error {
			return f.run(cmd.Context(), args[0], cmd.OutOrStdout(), cmd.ErrOrStderr())
		}),
	}

	fl := cmd.Flags()
	fl.SortFlags = false
	fl.StringVar(&f.build, "build", "", "release the build `BUILD`: a tag or digest in REF's repository, or a full reference (required)")
	fl.StringVar(&f.config, "config", "", "with the config in the JSON `FILE` (required)")
	fl.StringArrayVar(&f.allowPlaintext, "allow-plaintext", nil, "admit the plain variable `NAME` although its value looks like a secret (repeatable)")
	fl.StringVar(&f.key, "key", "", "sign the release with the private key in `KEY` (PEM, or a cosign key; password from SLIPWAY_PASSWORD, else COSIGN_PASSWORD)")
	addTargetFlags(cmd, &f.plainHTTP, &f.ociLayout)
	_ = cmd.MarkFlagRequired("build") // errors only for an undefined flag
	_ = cmd.MarkFlagRequired("config")
	return cmd
}

// run makes the release and reports it on stdout, its reference by digest
// last; retries go to stderr.
func (f *releaseFlags) run(ctx context.Context, ref string, stdout, stderr io.Writer) error {
	// The config first: a refused config stops the command before any I/O.
	c, err := config.ReadFile(f.config, config.Options{AllowPlaintext: f.allowPlaintext})
	if err != nil {
		return fmt.Errorf("--config: %w", err)
	}
	opts, err := newReleaseOptions(f.key, stderr)
	if err != nil {
		return err
	}
	dst, err := openTarget(ctx, ref, f.plainHTTP, f.ociLayout)
	if err != nil {
		return err
	}
	if dst.tag != "" && dst.tag != c.Environment() {
		return fmt.Errorf("REF %q: tag %q is not the environment of the config %s, %q; the tag names the environment whose ledger the release joins (leave it out to take the config's)",
			ref, dst.tag, f.config, c.Environment())
	}
	b, src, err := loadBuild(ctx, dst, f.build, f.plainHTTP, f.ociLayout)
	if err != nil {
		return err
	}
	var r *release.Release
	err = retryConflict(ctx, stderr, conflictWait, func() (err error) {
		r, err = release.New(ctx, dst.store, b, c, opts)
		return err
	})
	if errors.Is(err, release.ErrMissingBuild) && !src.same(dst) {
		return &hinted{err, fmt.Sprintf("the build is in %s, not in %s: copy it there first, e.g. with %s", src.name, dst.name, orasCopy(src, dst, b.Digest(), f.plainHTTP, f.ociLayout))}
	}
	if err != nil {
		return err
	}
	reportRelease(stdout, fmt.Sprintf("Released %s v%d to %s", r.App(), r.Version(), r.Environment()), r, dst, opts.Signer != nil)
	return nil
}

// loadBuild loads the build that value (the --build flag) names for a
// release in dst: a tag or a digest in dst, or a full reference. It returns
// the build and where it was found.
func loadBuild(ctx context.Context, dst *target, value string, plainHTTP, ociLayout bool) (*build.Build, *target, error) {
	src, err := resolveIn(ctx, dst, value, plainHTTP, ociLayout)
	if err != nil {
		return nil, nil, fmt.Errorf("--build: %w", err)
	}
	if src.reference() == "" {
		return nil, nil, fmt.Errorf("--build %q: names no tag or digest", value)
	}
	b, err := build.Load(ctx, src.store, src.reference())
	switch {
	case errors.Is(err, errdef.ErrNotFound) && src.same(dst):
		return nil, nil, &hinted{fmt.Errorf("--build %s: %w", src, err),
			"a release's build must be stored in the app's repository: store it there with slipway build, or copy it there with oras cp, then name it by tag or digest"}
	case err != nil:
		return nil, nil, fmt.Errorf("--build %s: %w", src, err)
	}
	return b, src, nil
}

// orasCopy returns the oras command line that copies the build d from src
// to dst.
func orasCopy(src, dst *target, d digest.Digest, plainHTTP, ociLayout bool) string {
	flags := ""
	switch {
	case ociLayout:
		flags = "--from-oci-layout --to-oci-layout "
	case plainHTTP:
		flags = "--plain-http "
	}
	return fmt.Sprintf("oras cp %s%s %s", flags, src.ref(d), dst.ref(d))
}

// newReleaseOptions returns the options of a new release: created now, or
// at SOURCE_DATE_EPOCH if it is set, which the library reads itself when
// Created is zero; signed with the private key in the file key, if set.
func newReleaseOptions(key string, stderr io.Writer) (release.Options, error) {
	var opts release.Options
	if _, ok := os.LookupEnv("SOURCE_DATE_EPOCH"); !ok {
		opts.Created = time.Now()
	}
	if key != "" {
		s, err := loadSigner(key, stderr)
		if err != nil {
			return opts, err
		}
		opts.Signer = s
	}
	return opts, nil
}

// Retries of a release or rollback that other publishers overtook. Each
// version of a ledger goes to one of the publishers that contend for it,
// so with N publishers at once the last to land tries N times at least.
const (
	conflictAttempts = 8                      // tries in all
	conflictWait     = 200 * time.Millisecond // the longest first wait, doubled after each try
	conflictMaxWait  = 5 * time.Second        // the longest wait
)

// retryConflict calls fn until it returns anything but an error wrapping
// release.ErrConflict, conflictAttempts times at most, and says so on w
// before each new try. Each wait is random, up to first, then up to twice
// as long after each try, conflictMaxWait at most, so that publishers that
// collided spread out instead of colliding again in step.
func retryConflict(ctx context.Context, w io.Writer, first time.Duration, fn func() error) error {
	for attempt := 1; ; attempt++ {
		err := fn()
		if !errors.Is(err, release.ErrConflict) {
			return err
		}
		if attempt == conflictAttempts {
			return &hinted{err, fmt.Sprintf("gave up after %d attempts", conflictAttempts)}
		}
		wait := rand.N(min(first<<(attempt-1), conflictMaxWait) + 1)
		fmt.Fprintf(w, "slipway: another publisher changed the ledger; trying again in %v (attempt %d of %d)\n",
			wait.Round(time.Millisecond), attempt+1, conflictAttempts)
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return fmt.Errorf("%w; stopped waiting to try again: %w", err, ctx.Err())
		case <-timer.C:
		}
	}
}

// reportRelease writes what r is, a few lines under headline, the last one
// its reference by digest in dst.
func reportRelease(w io.Writer, headline string, r *release.Release, dst *target, signed bool) {
	b, c := r.Build(), r.Config()
	fmt.Fprintln(w, headline)
	fmt.Fprintf(w, "Build: %s\n", dst.ref(b.Digest()))
	fmt.Fprintf(w, "Config: %s (%s, %s)\n", c.Digest(),
		count(int64(len(c.Env())), "variable", "variables"), count(int64(len(c.Secrets())), "secret reference", "secret references"))
	if fs := c.Findings(); len(fs) > 0 {
		names := make([]string, len(fs))
		for i, f := range fs {
			names[i] = f.Name + " (" + f.Rule + ")"
		}
		fmt.Fprintf(w, "Allowed plaintext: %s\n", strings.Join(names, ", "))
	}
	if ps := r.Processes(); len(ps) > 0 {
		fmt.Fprintf(w, "Processes: %s\n", processList(ps))
	}
	if prev, ok := r.Previous(); ok {
		fmt.Fprintf(w, "Previous: v%d %s\n", r.Version()-1, dst.ref(prev.Digest))
	}
	fmt.Fprintf(w, "Tags: %s, %s\n", r.Tag(), r.Environment())
	if signed {
		what := "signature and SLSA provenance"
		if n := len(r.Build().Evidence()); n > 0 {
			what = fmt.Sprintf("signature, SLSA provenance and %s", count(int64(n), "piece of evidence", "pieces of evidence"))
		}
		fmt.Fprintf(w, "Signed: %s, as sigstore bundles and cosign tags\n", what)
	}
	fmt.Fprintln(w, dst.ref(r.Digest()))
}
