package config

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Resolver turns a secret reference into the secret's value. It is called
// only when a release runs, never when one is made.
//
// Implementations must honour ctx, be safe for concurrent use, and never
// put a secret value in an error or a log record; a failure should be a
// [*ResolveError] wrapping [ErrUnresolved].
type Resolver interface {
	Resolve(ctx context.Context, ref string) (string, error)
}

// ResolverFunc adapts a function to a [Resolver].
type ResolverFunc func(ctx context.Context, ref string) (string, error)

// Resolve calls f(ctx, ref).
func (f ResolverFunc) Resolve(ctx context.Context, ref string) (string, error) { return f(ctx, ref) }

// Schemes is a [Resolver] that hands each reference to the Resolver of its
// URI scheme, such as Schemes{"env": EnvResolver{}, "file": FileResolver{Root: "/run/secrets"}}.
// A reference that is not valid (as [New] checks references) or whose
// scheme has no Resolver fails with [ErrUnresolved]; the error names the
// scheme. Schemes is safe for concurrent use if its Resolvers are and the
// map is not changed.
type Schemes map[string]Resolver

// Resolve resolves ref with the Resolver of its scheme.
func (s Schemes) Resolve(ctx context.Context, ref string) (string, error) {
	if err := checkReference(ref); err != nil {
		return "", &ResolveError{Ref: shownRef(ref), Err: fmt.Errorf("%w: %w", ErrUnresolved, err)}
	}
	scheme, _, _ := strings.Cut(ref, ":")
	r := s[scheme]
	if r == nil {
		return "", &ResolveError{Ref: ref, Err: fmt.Errorf("%w: no resolver for scheme %q", ErrUnresolved, scheme)}
	}
	return r.Resolve(ctx, ref)
}

// EnvResolver resolves references env://NAME to the value of the
// environment variable NAME, which must be set (it may be empty). Its zero
// value reads the environment of the running process.
type EnvResolver struct {
	// Lookup returns the value of an environment variable and whether it
	// is set. If nil, os.LookupEnv is used.
	Lookup func(name string) (string, bool)
}

// Resolve returns the value of the variable ref names.
func (r EnvResolver) Resolve(ctx context.Context, ref string) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", &ResolveError{Ref: shownRef(ref), Err: fmt.Errorf("%w: %w", ErrUnresolved, err)}
	}
	name, ok := strings.CutPrefix(ref, "env://")
	if !ok || len(name) > maxVarLen || !varRE.MatchString(name) {
		return "", &ResolveError{Ref: shownRef(ref), Err: fmt.Errorf("%w: %w: want env://NAME, NAME of letters, digits and underscores", ErrUnresolved, ErrInvalidReference)}
	}
	lookup := r.Lookup
	if lookup == nil {
		lookup = os.LookupEnv
	}
	value, ok := lookup(name)
	if !ok {
		return "", &ResolveError{Ref: ref, Err: fmt.Errorf("%w: environment variable %s is not set", ErrUnresolved, name)}
	}
	return value, nil
}

// MaxSecretFileSize is the largest file a [FileResolver] reads.
const MaxSecretFileSize = 64 << 10

// FileResolver resolves references file:///abs/path to the contents of the
// regular file at that absolute path, exactly as stored (a trailing newline
// is kept). A file larger than [MaxSecretFileSize] is refused. Its zero
// value reads any file the process may read; set Root to confine it.
type FileResolver struct {
	// Root, if not empty, is an absolute directory that every referenced
	// file must lie in, such as /run/secrets. Files are then opened
	// through [os.OpenRoot], so neither ".." nor a symbolic link can lead
	// outside it, and links inside Root must be relative. The path of a
	// reference is compared with Root as written, after cleaning: with
	// Root /run/secrets, file:///var/run/secrets/db is refused even if
	// /var/run is /run.
	Root string
}

// Resolve returns the contents of the file ref names.
func (r FileResolver) Resolve(ctx context.Context, ref string) (string, error) {
	fail := func(format string, args ...any) (string, error) {
		return "", &ResolveError{Ref: shownRef(ref), Err: fmt.Errorf("%w: "+format, append([]any{ErrUnresolved}, args...)...)}
	}
	if err := ctx.Err(); err != nil {
		return fail("%w", err)
	}
	path, err := filePath(ref)
	if err != nil {
		return fail("%w", err)
	}
	var files opener = osFiles{}
	name := path
	if r.Root != "" {
		if !filepath.IsAbs(r.Root) {
			return fail("FileResolver.Root %q is not an absolute path", r.Root)
		}
		rel, err := filepath.Rel(filepath.Clean(r.Root), path)
		if err != nil || !filepath.IsLocal(rel) {
			return fail("the file lies outside FileResolver.Root %s", r.Root)
		}
		root, err := os.OpenRoot(r.Root)
		if err != nil {
			return fail("%w", err)
		}
		defer root.Close()
		files, name = root, rel
	}
	data, err := readSecretFile(files, name)
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err // the reference names the file already
	}
	if err != nil {
		return fail("%w", err)
	}
	return data, nil
}

// opener opens files: an *os.Root, or osFiles.
type opener interface {
	Open(name string) (*os.File, error)
	Stat(name string) (fs.FileInfo, error)
}

// osFiles opens files by their paths, as package os does.
type osFiles struct{}

func (osFiles) Open(name string) (*os.File, error)    { return os.Open(name) }
func (osFiles) Stat(name string) (fs.FileInfo, error) { return os.Stat(name) }

// filePath returns the clean absolute path of a reference file:///path.
func filePath(ref string) (string, error) {
	const want = "want file:///absolute/path"
	if checkReference(ref) != nil {
		return "", fmt.Errorf("%w: %s", ErrInvalidReference, want)
	}
	u, err := url.Parse(ref)
	switch {
	case err != nil || u.Scheme != "file" || u.Opaque != "" || u.Host != "":
		return "", fmt.Errorf("%w: %s", ErrInvalidReference, want)
	case u.RawQuery != "" || u.Fragment != "":
		return "", fmt.Errorf("%w: %s, without query or fragment", ErrInvalidReference, want)
	case !strings.HasPrefix(u.Path, "/") || strings.IndexByte(u.Path, 0) >= 0:
		return "", fmt.Errorf("%w: %s", ErrInvalidReference, want)
	}
	return filepath.Clean(u.Path), nil
}

// readSecretFile reads the regular file name, at most MaxSecretFileSize
// bytes. It checks the type before opening, so that a named pipe cannot
// block it, and again after.
func readSecretFile(files opener, name string) (string, error) {
	if info, err := files.Stat(name); err != nil {
		return "", err
	} else if !info.Mode().IsRegular() {
		return "", errors.New("not a regular file")
	}
	f, err := files.Open(name)
	if err != nil {
		return "", err
	}
	defer f.Close()
	if info, err := f.Stat(); err != nil {
		return "", err
	} else if !info.Mode().IsRegular() {
		return "", errors.New("not a regular file")
	}
	data, err := io.ReadAll(io.LimitReader(f, MaxSecretFileSize+1))
	switch {
	case err != nil:
		return "", err
	case len(data) > MaxSecretFileSize:
		return "", fmt.Errorf("larger than %d bytes", MaxSecretFileSize)
	}
	return string(data), nil
}

// Resolve returns the environment of a process run with c: its plain
// variables and the value of each secret reference as r resolves it. Call
// it only when a release runs; making a release never resolves anything.
//
// Every reference is tried. Failures are joined, each a [*ResolveError]
// that names the variable and its reference and wraps [ErrUnresolved];
// a resolved value holding a NUL byte, which no environment can carry, is
// a failure too. No error holds a value, but the map does: never log or
// print it.
func (c *Config) Resolve(ctx context.Context, r Resolver) (map[string]string, error) {
	env := cloneMap(c.vars)
	var errs []error
	for _, name := range slices.Sorted(maps.Keys(c.secrets)) {
		ref := c.secrets[name]
		if err := ctx.Err(); err != nil {
			errs = append(errs, &ResolveError{Name: name, Ref: ref, Err: fmt.Errorf("%w: %w", ErrUnresolved, err)})
			continue
		}
		if r == nil {
			errs = append(errs, &ResolveError{Name: name, Ref: ref, Err: fmt.Errorf("%w: no Resolver", ErrUnresolved)})
			continue
		}
		value, err := r.Resolve(ctx, ref)
		switch {
		case err != nil:
			errs = append(errs, named(name, ref, err))
		case strings.IndexByte(value, 0) >= 0:
			errs = append(errs, &ResolveError{Name: name, Ref: ref, Err: fmt.Errorf("%w: the value holds a NUL byte", ErrUnresolved)})
		default:
			env[name] = value
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return env, nil
}

// named makes err, from resolving ref, a *ResolveError naming the variable
// name and wrapping ErrUnresolved.
func named(name, ref string, err error) *ResolveError {
	// Only a ResolveError returned as is is completed; one deeper in the
	// chain keeps the context its resolver wrapped around it.
	if re, ok := err.(*ResolveError); ok {
		named := *re
		named.Name = name
		if !errors.Is(named.Err, ErrUnresolved) {
			named.Err = fmt.Errorf("%w: %w", ErrUnresolved, named.Err)
		}
		return &named
	}
	if !errors.Is(err, ErrUnresolved) {
		err = fmt.Errorf("%w: %w", ErrUnresolved, err)
	}
	return &ResolveError{Name: name, Ref: ref, Err: err}
}
