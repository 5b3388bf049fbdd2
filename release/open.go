package release

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/sigstore/sigstore/pkg/signature"
	"oras.land/oras-go/v2"
	"oras.land/oras-go/v2/content"

	"github.com/slipway-dev/slipway/build"
	"github.com/slipway-dev/slipway/internal/extract"
)

// shell runs a process's command.
const shell = "/bin/sh"

// Opened is a release that verified and was extracted: the run stage's
// view of it. Make one with [Open]. It is immutable and safe for
// concurrent use; it does not remove its directory.
type Opened struct {
	verified *Verified
	dir      string
	env      Env
}

// Verified returns what verification found: the release, its signatures
// and attestations, its current summary and, with a policy, the decision.
func (o *Opened) Verified() *Verified { return o.verified }

// Release returns the release.
func (o *Opened) Release() *Release { return o.verified.Release }

// Dir returns the absolute path of the directory the build was extracted
// into.
func (o *Opened) Dir() string { return o.dir }

// Processes returns the processes the release declares, as its signed
// record lists them, admin one-offs included.
func (o *Opened) Processes() []build.Process { return o.verified.Release.Processes() }

// Env returns the processes' environment: the config's plain variables
// and resolved secrets.
func (o *Opened) Env() Env { return o.env }

// Open verifies the release ref names in src, resolves its environment,
// then extracts its build into dir: the run stage. Nothing of a release
// that did not verify is written.
//
// In this order, each step failing closed:
//
//   - dir: unless opts.Overwrite, a dir that holds anything fails with
//     [ErrNotEmpty] before anything is read;
//   - verify: [Verify] with opts.Verify and trusted, which checks every
//     blob of the release and its build except the files to extract,
//     which the extract step checks as it writes them, so that each is
//     read once; a failure is its [*VerifyError],
//     returned as is, and with opts.Verify.Policy a no-go is one wrapping
//     [ErrNoGo];
//   - environment: the config's secret references resolved with
//     opts.Resolver ([config.Config.Resolve]); a failure names each
//     variable and reference, never a value, and wraps
//     [config.ErrUnresolved];
//   - extract: the build's files, links and packed directories written
//     into dir, made 0755 if missing, as docs/run.md describes: no path
//     or link leaves dir, no device or setuid file is made, at most
//     opts.MaxBytes and opts.MaxFiles are written, and every byte is
//     checked against its digest as it streams from src. A failure is an [*ExtractError] naming the entry and
//     wrapping [ErrUnsafePath], [ErrUnsafeLink], [ErrUnsupportedEntry],
//     [ErrLimit], [ErrDigestMismatch] or [ErrNotEmpty]; nothing of the
//     build is left in dir, and a dir Open made is removed.
//
// Files take the permission bits their record gives; owners and times are
// not restored. A build that adopted a container image has only the files
// it lists besides it: Open does not unpack the image. Open keeps no
// secret value anywhere but in the returned [Opened]'s [Env]: none is
// logged, none written to disk.
func Open(ctx context.Context, src oras.ReadOnlyGraphTarget, ref string, dir string, trusted []signature.Verifier, opts OpenOptions) (*Opened, error) {
	switch {
	case opts.MaxBytes < 0:
		return nil, fmt.Errorf("release: OpenOptions.MaxBytes: %w: negative", ErrInvalidOptions)
	case opts.MaxFiles < 0:
		return nil, fmt.Errorf("release: OpenOptions.MaxFiles: %w: negative", ErrInvalidOptions)
	case dir == "":
		return nil, fmt.Errorf("release: open %s: %w: no target directory", ref, ErrInvalidOptions)
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("release: open %s: target directory: %w", ref, err)
	}
	if !opts.Overwrite {
		if err := extract.CheckEmpty(abs); err != nil {
			return nil, fmt.Errorf("release: open %s: %w", ref, extractError(err))
		}
	}

	start := time.Now()
	vopts := opts.Verify
	vopts.extracting = true
	v, err := Verify(ctx, src, ref, trusted, vopts)
	if err != nil {
		return nil, err
	}
	r := v.Release
	log.DebugContext(ctx, "verified", "ref", ref, "digest", r.Digest(), "app", r.App(), "environment", r.Environment(),
		"version", r.Version(), "go", v.Decision == nil || v.Decision.Go(), "took", time.Since(start))
	where := fmt.Sprintf("release: open %s@%s", ref, r.Digest())

	start = time.Now()
	c := r.Config()
	values, err := c.Resolve(ctx, opts.Resolver)
	if err != nil {
		return nil, fmt.Errorf("%s: environment: %w", where, err)
	}
	secrets := slices.Sorted(maps.Keys(c.Secrets()))
	env := newEnv(values, secrets)
	log.DebugContext(ctx, "resolved environment", "digest", r.Digest(), "vars", len(values)-len(secrets), "secrets", secrets, "took", time.Since(start))

	start = time.Now()
	b := r.Build()
	layers := make(map[string]ocispec.Descriptor)
	for _, l := range b.Layers() {
		if title := l.Annotations[ocispec.AnnotationTitle]; title != "" {
			layers[title] = l
		}
	}
	entries := toExtract(b.Entries())
	res, err := extract.Extract(ctx, abs, entries, layerOpener{src: src, layers: layers}, extract.Options{
		Overwrite: opts.Overwrite,
		MaxBytes:  opts.MaxBytes,
		MaxFiles:  opts.MaxFiles,
	})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", where, extractError(err))
	}
	log.DebugContext(ctx, "extracted", "digest", r.Digest(), "build", b.Digest(), "dir", abs, "entries", res.Files, "bytes", res.Bytes, "took", time.Since(start))
	return &Opened{verified: v, dir: abs, env: env}, nil
}

// toExtract turns a build's entries into those of package extract.
func toExtract(es []build.Entry) []extract.Entry {
	out := make([]extract.Entry, len(es))
	for i, e := range es {
		out[i] = extract.Entry{
			Path:      e.Path,
			Kind:      extract.Kind(e.Type),
			Mode:      e.Mode,
			Size:      e.Size,
			Digest:    e.Digest,
			Target:    e.Target,
			TarDigest: e.TarDigest,
		}
	}
	return out
}

// layerOpener fetches the layers of a build's entries by their title.
type layerOpener struct {
	src    content.Fetcher
	layers map[string]ocispec.Descriptor
}

func (o layerOpener) Open(ctx context.Context, e extract.Entry) (io.ReadCloser, error) {
	desc, ok := o.layers[e.Path]
	if !ok || desc.Digest != e.Digest || desc.Size != e.Size {
		return nil, fmt.Errorf("%w: no layer %s for %q", ErrRecordMismatch, e.Digest, e.Path)
	}
	rc, err := o.src.Fetch(ctx, desc)
	if err != nil {
		return nil, fmt.Errorf("fetch %s: %w", desc.Digest, err)
	}
	return rc, nil
}

// Command returns a command, ready to start, that runs the process name
// the release declares, an app process or an admin one-off, with args:
//
//	/bin/sh -c 'exec <command> "$@"' <name> <args>...
//
// where <command> is the process's command as the signed record holds it,
// which the shell reads as a Procfile's command line is read; its first
// word is the program, so an assignment or a compound command does not
// fit there ("env VAR=x prog" does). Args are positional parameters of
// the shell, appended to the command's words: never read as shell text,
// whatever they hold. The command runs in [Opened.Dir] with exactly
// [Opened.Env] as its environment: nothing of the caller's environment is
// added, not even PATH (the shell then looks programs up in its default
// path); a caller that wants more appends to the returned Cmd's Env.
// Stdin, Stdout and Stderr are unset, as exec.CommandContext leaves them,
// and ctx kills the process as it does.
//
// A name the release does not declare fails with [ErrNoProcess]; an admin
// one-off, with [ErrAdminProcess]: it runs only through [Admin], which
// checks the decision and leaves a signed audit record, so that no admin
// run goes unrecorded.
func (o *Opened) Command(ctx context.Context, name string, args ...string) (*exec.Cmd, error) {
	ps := o.Processes()
	i := slices.IndexFunc(ps, func(p build.Process) bool { return p.Name == name })
	if i < 0 {
		names := make([]string, len(ps))
		for i, p := range ps {
			names[i] = p.Name
		}
		declared := "none"
		if len(names) > 0 {
			declared = strings.Join(names, ", ")
		}
		return nil, fmt.Errorf("release: command %q of %s@%s: %w (declared: %s)", name, o.Release().Tag(), o.Release().Digest(), ErrNoProcess, declared)
	}
	if ps[i].Admin {
		return nil, fmt.Errorf("release: command %q of %s@%s: %w: run it with Admin, which records it", name, o.Release().Tag(), o.Release().Digest(), ErrAdminProcess)
	}
	return o.command(ctx, ps[i], args), nil
}

// command is the ready Cmd of the declared process p with args.
func (o *Opened) command(ctx context.Context, p build.Process, args []string) *exec.Cmd {
	argv := append([]string{"-c", "exec " + p.Command + ` "$@"`, p.Name}, args...)
	cmd := exec.CommandContext(ctx, shell, argv...)
	cmd.Dir = o.dir
	cmd.Env = o.env.Environ()
	return cmd
}
