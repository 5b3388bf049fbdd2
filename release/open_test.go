package release_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sigstore/sigstore/pkg/signature"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"oras.land/oras-go/v2"
	"oras.land/oras-go/v2/content/memory"

	"github.com/slipway-dev/slipway/build"
	"github.com/slipway-dev/slipway/config"
	"github.com/slipway-dev/slipway/release"
)

// The app the run-stage tests open: a script that prints its greeting and
// arguments, one that prints the secret, a config file, a link, and a
// packed directory of static files with a link of its own.
var (
	appFiles = map[string]struct {
		data string
		mode fs.FileMode
	}{
		"bin/hello":           {"#!/bin/sh\nprintf '%s|' \"$GREETING\" \"$@\"\necho\n", 0o755},
		"bin/secret":          {"#!/bin/sh\nprintf '%s' \"$DB_PASSWORD\"\n", 0o750},
		"etc/app.conf":        {"port=8080\n", 0o600},
		"README":              {"shop\n", 0o644},
		"static/index.html":   {"<h1>shop</h1>\n", 0o644},
		"static/css/site.css": {"body{}\n", 0o640},
	}
	appLinks     = map[string]string{"current": "bin/hello", "static/latest": "index.html"}
	appProcesses = []build.Process{
		{Name: "web", Command: "bin/hello"},
		{Name: "migrate", Command: "bin/hello migrate", Admin: true},
		{Name: "secret", Command: "bin/secret", Admin: true},
	}
)

const dbRef = "vault://kv/shop/prod#db_password"

// appTree writes the app's files into a new directory.
func appTree(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	for name, f := range appFiles {
		p := filepath.Join(dir, filepath.FromSlash(name))
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(f.data), f.mode))
		require.NoError(t, os.Chmod(p, f.mode))
	}
	for name, target := range appLinks {
		require.NoError(t, os.Symlink(target, filepath.Join(dir, filepath.FromSlash(name))))
	}
	return dir
}

// runApp stores the app's build and a release of it to prod in dst,
// signed by key unless key is nil, with the config of spec.
func runApp(t testing.TB, dst oras.Target, key signature.Signer, spec config.Spec) *release.Release {
	t.Helper()
	ctx := context.Background()
	b, err := build.New(ctx, dst, "shop", build.Spec{
		Dir:       appTree(t),
		Tar:       []string{"static"},
		Source:    build.Source{Repository: "https://example.com/acme/shop", Revision: "0123456789abcdef0123456789abcdef01234567"},
		Processes: appProcesses,
		Created:   created,
	}, build.Options{})
	require.NoError(t, err)
	c, err := config.New("shop", "prod", spec, config.Options{})
	require.NoError(t, err)
	r, err := release.New(ctx, dst, b, c, release.Options{Created: at(1), Signer: key})
	require.NoError(t, err)
	return r
}

// appConfig is the app's config: two plain variables and one secret.
var appConfig = config.Spec{
	Env:     map[string]string{"GREETING": "hello", "PORT": "8080"},
	Secrets: map[string]string{"DB_PASSWORD": dbRef},
}

// newSecret returns a secret value no test output holds by chance.
func newSecret() string { return "s3cr3t-" + rand.Text() }

// resolverOf resolves dbRef to secret and fails on anything else.
func resolverOf(secret string) config.Resolver {
	return config.ResolverFunc(func(_ context.Context, ref string) (string, error) {
		if ref == dbRef {
			return secret, nil
		}
		return "", &config.ResolveError{Ref: ref, Err: config.ErrUnresolved}
	})
}

func TestOpenEveryStore(t *testing.T) {
	for _, s := range stores(t) {
		t.Run(s.name, func(t *testing.T) {
			ctx := t.Context()
			dst := s.open(t).(graphTarget)
			key := newKey(t)
			r := runApp(t, dst, key, appConfig)
			secret := newSecret()
			var logs bytes.Buffer
			dir := filepath.Join(t.TempDir(), "run")
			o, err := release.Open(ctx, dst, "prod", dir, []signature.Verifier{key}, release.OpenOptions{
				Resolver: resolverOf(secret),
				Logger:   slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
			})
			require.NoError(t, err)

			assert.Equal(t, dir, o.Dir())
			assert.Equal(t, r.Digest(), o.Release().Digest())
			assert.Equal(t, r.Digest(), o.Verified().Release.Digest())
			assert.Equal(t, appProcesses, o.Processes())
			for name, f := range appFiles {
				p := filepath.Join(dir, filepath.FromSlash(name))
				data, err := os.ReadFile(p)
				require.NoError(t, err, name)
				assert.Equal(t, f.data, string(data), name)
				info, err := os.Lstat(p)
				require.NoError(t, err)
				assert.Equal(t, f.mode, info.Mode(), name)
			}
			for name, target := range appLinks {
				got, err := os.Readlink(filepath.Join(dir, filepath.FromSlash(name)))
				require.NoError(t, err, name)
				assert.Equal(t, target, got, name)
			}
			entries, err := os.ReadDir(dir)
			require.NoError(t, err)
			var names []string
			for _, e := range entries {
				names = append(names, e.Name())
			}
			assert.Equal(t, []string{"README", "bin", "current", "etc", "static"}, names, "the build, nothing else")

			env := o.Env()
			assert.Equal(t, []string{"DB_PASSWORD", "GREETING", "PORT"}, env.Names())
			v, ok := env.Lookup("DB_PASSWORD")
			assert.True(t, ok)
			assert.Equal(t, secret, v)
			assert.True(t, env.IsSecret("DB_PASSWORD"))
			assert.False(t, env.IsSecret("PORT"))
			assert.Equal(t, []string{"DB_PASSWORD=" + secret, "GREETING=hello", "PORT=8080"}, env.Environ())
			assert.Equal(t, "DB_PASSWORD=[redacted] GREETING=hello PORT=8080", env.String())

			cmd, err := o.Command(ctx, "web", "world", "two words")
			require.NoError(t, err)
			assert.Equal(t, dir, cmd.Dir)
			assert.Equal(t, env.Environ(), cmd.Env, "exactly the config's environment")
			out, err := cmd.Output()
			require.NoError(t, err)
			assert.Equal(t, "hello|world|two words|\n", string(out))

			hostile := `$(touch pwned); echo "$DB_PASSWORD" > leak; ` + "`touch pwned2`"
			cmd, err = o.Command(ctx, "web", hostile, "*")
			require.NoError(t, err)
			out, err = cmd.Output()
			require.NoError(t, err)
			assert.Equal(t, "hello|"+hostile+"|*|\n", string(out), "arguments are never shell text")
			for _, f := range []string{"pwned", "pwned2", "leak"} {
				assert.NoFileExists(t, filepath.Join(dir, f))
			}

			_, err = o.Command(ctx, "migrate", "--dry-run")
			assert.ErrorIs(t, err, release.ErrAdminProcess, "admin one-offs run through Admin, which records them")

			_, err = o.Command(ctx, "worker")
			assert.ErrorIs(t, err, release.ErrNoProcess)
			assert.ErrorContains(t, err, "web, migrate, secret")

			assert.Contains(t, logs.String(), `"msg":"verified"`)
			assert.Contains(t, logs.String(), `"msg":"resolved environment"`)
			assert.Contains(t, logs.String(), `"msg":"extracted"`)
			assert.NotContains(t, logs.String(), secret)
		})
	}
}

// TestOpenNeverShowsSecrets prints, encodes and logs the environment and
// the opened release every way a program might, and the errors of a
// failing resolver: no secret value shows.
func TestOpenNeverShowsSecrets(t *testing.T) {
	ctx := t.Context()
	dst := memory.New()
	key := newKey(t)
	runApp(t, dst, key, config.Spec{
		Env:     appConfig.Env,
		Secrets: map[string]string{"DB_PASSWORD": dbRef, "API_TOKEN": "env://SHOP_API_TOKEN", "EMPTY": "vault://kv/shop/prod#empty"},
	})
	secret, token := newSecret(), newSecret()
	values := map[string]string{dbRef: secret, "env://SHOP_API_TOKEN": token, "vault://kv/shop/prod#empty": ""}
	resolver := config.ResolverFunc(func(_ context.Context, ref string) (string, error) { return values[ref], nil })
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	o, err := release.Open(ctx, dst, "prod", t.TempDir(), []signature.Verifier{key}, release.OpenOptions{Resolver: resolver, Logger: logger})
	require.NoError(t, err)
	env := o.Env()
	v, _ := env.Lookup("API_TOKEN")
	require.Equal(t, token, v)

	type holder struct {
		Env   release.Env
		env   release.Env
		Ptr   *release.Env
		plain map[string]release.Env
	}
	h := holder{Env: env, env: env, Ptr: &env, plain: map[string]release.Env{"x": env}}
	var shown []string
	for _, format := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%d", "%10.3v"} {
		shown = append(shown,
			fmt.Sprintf(format, env), fmt.Sprintf(format, &env), fmt.Sprintf(format, h), fmt.Sprintf(format, &h),
			fmt.Sprintf(format, o), fmt.Sprintf(format, *o), fmt.Sprintf(format, []any{env, o}))
	}
	shown = append(shown, env.String(), env.GoString(), fmt.Sprint(env), fmt.Sprintln(env, o),
		fmt.Errorf("wrapped: %v", env).Error(), fmt.Errorf("wrapped: %+v", o).Error())
	for _, v := range []any{env, &env, h, o, map[string]any{"env": env}} {
		data, err := json.Marshal(v)
		require.NoError(t, err)
		shown = append(shown, string(data))
	}
	text, err := env.MarshalText()
	require.NoError(t, err)
	shown = append(shown, string(text))
	var logged bytes.Buffer
	for _, handler := range []slog.Handler{slog.NewTextHandler(&logged, nil), slog.NewJSONHandler(&logged, nil)} {
		l := slog.New(handler)
		l.Info("env", "env", env, "ptr", &env, "holder", h, "opened", o)
		l.Info("group", slog.Any("env", env), slog.Group("g", "env", env))
	}
	log.New(&logged, "", 0).Printf("%v %+v", env, o)
	shown = append(shown, logged.String(), logs.String())

	joined := strings.Join(shown, "\n")
	assert.NotContains(t, joined, secret)
	assert.NotContains(t, joined, token)
	assert.Contains(t, joined, "DB_PASSWORD=[redacted]")
	assert.Contains(t, joined, `"DB_PASSWORD":"[redacted]"`)
	assert.Contains(t, joined, `"EMPTY":"[redacted]"`)
	assert.Contains(t, joined, "GREETING=hello", "plain values do show")
	assert.Contains(t, joined, "env.DB_PASSWORD=[redacted]", "slog's text handler")

	// A resolver that resolves one secret and fails on the next: the error
	// names the variable and the reference, not the value resolved; and
	// a value no environment can hold is refused without showing it.
	for name, r := range map[string]config.Resolver{
		"fails": config.ResolverFunc(func(_ context.Context, ref string) (string, error) {
			if ref == dbRef {
				return secret, nil
			}
			return "", errors.New("vault: permission denied")
		}),
		"NUL": config.ResolverFunc(func(_ context.Context, ref string) (string, error) { return secret + "\x00" + token, nil }),
	} {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "run")
			logs.Reset()
			_, err := release.Open(ctx, dst, "prod", dir, []signature.Verifier{key}, release.OpenOptions{Resolver: r, Logger: logger})
			require.ErrorIs(t, err, config.ErrUnresolved)
			var re *config.ResolveError
			require.ErrorAs(t, err, &re)
			for _, s := range []string{err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err), logs.String()} {
				assert.NotContains(t, s, secret)
				assert.NotContains(t, s, token)
			}
			assert.NoDirExists(t, dir, "nothing is extracted for an environment that does not resolve")
		})
	}
}

// TestOpenRefusals: what Open refuses, before anything is extracted.
func TestOpenRefusals(t *testing.T) {
	ctx := t.Context()
	dst := memory.New()
	key, other := newKey(t), newKey(t)
	runApp(t, dst, key, appConfig)
	unsigned := memory.New()
	runApp(t, unsigned, nil, appConfig)
	resolver := resolverOf(newSecret())

	rows := []struct {
		name    string
		src     oras.ReadOnlyGraphTarget
		trusted []signature.Verifier
		opts    release.OpenOptions
		want    error
	}{
		{name: "unsigned", src: unsigned, trusted: []signature.Verifier{key}, opts: release.OpenOptions{Resolver: resolver}, want: release.ErrNotSigned},
		{name: "untrusted key", src: dst, trusted: []signature.Verifier{other}, opts: release.OpenOptions{Resolver: resolver}, want: release.ErrUntrustedKey},
		{name: "no-go", src: dst, trusted: []signature.Verifier{key},
			opts: release.OpenOptions{Resolver: resolver, Verify: release.VerifyOptions{Policy: mustPolicy(t, `{"environments":["staging"]}`)}}, want: release.ErrNoGo},
		{name: "no resolver", src: dst, trusted: []signature.Verifier{key}, want: config.ErrUnresolved},
		{name: "too many files", src: dst, trusted: []signature.Verifier{key}, opts: release.OpenOptions{Resolver: resolver, MaxFiles: 5}, want: release.ErrLimit},
		{name: "too many bytes", src: dst, trusted: []signature.Verifier{key}, opts: release.OpenOptions{Resolver: resolver, MaxBytes: 20}, want: release.ErrLimit},
		{name: "negative MaxFiles", src: dst, trusted: []signature.Verifier{key}, opts: release.OpenOptions{MaxFiles: -1}, want: release.ErrInvalidOptions},
	}
	for _, tc := range rows {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "run")
			o, err := release.Open(ctx, tc.src, "prod", dir, tc.trusted, tc.opts)
			require.Error(t, err)
			assert.Nil(t, o)
			assert.ErrorIs(t, err, tc.want)
			assert.NoDirExists(t, dir, "nothing extracted")
		})
	}

	t.Run("not empty", func(t *testing.T) {
		dir := t.TempDir()
		require.NoError(t, os.WriteFile(filepath.Join(dir, "keep"), []byte("mine"), 0o600))
		_, err := release.Open(ctx, dst, "prod", dir, []signature.Verifier{key}, release.OpenOptions{Resolver: resolver})
		assert.ErrorIs(t, err, release.ErrNotEmpty)
		var xe *release.ExtractError
		require.ErrorAs(t, err, &xe)
		assert.Equal(t, dir, xe.Path)
		entries, err := os.ReadDir(dir)
		require.NoError(t, err)
		require.Len(t, entries, 1)
		data, err := os.ReadFile(filepath.Join(dir, "keep"))
		require.NoError(t, err)
		assert.Equal(t, "mine", string(data), "nothing in it changed")
	})

	t.Run("overwrite", func(t *testing.T) {
		dir := t.TempDir()
		require.NoError(t, os.WriteFile(filepath.Join(dir, "keep"), []byte("mine"), 0o600))
		require.NoError(t, os.WriteFile(filepath.Join(dir, "README"), []byte("old"), 0o600))
		o, err := release.Open(ctx, dst, "prod", dir, []signature.Verifier{key}, release.OpenOptions{Resolver: resolver, Overwrite: true})
		require.NoError(t, err)
		for name, want := range map[string]string{"keep": "mine", "README": "shop\n"} {
			data, err := os.ReadFile(filepath.Join(o.Dir(), name))
			require.NoError(t, err)
			assert.Equal(t, want, string(data))
		}
	})
}
