package config_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/slipway-dev/slipway/config"
)

// secretValue is what the resolvers in these tests find; no error may
// hold it.
const secretValue = "r3s0lved-s3cret-v4lue"

// assertNotIn checks that none of values appears in err, however it is
// printed, nor in any error it wraps.
func assertNotIn(t *testing.T, err error, values ...string) {
	t.Helper()
	require.Error(t, err)
	for _, text := range errorTexts(err) {
		for _, v := range values {
			assert.NotContains(t, text, v)
		}
	}
}

// errorTexts returns err and every error it wraps, printed every way fmt
// prints an error.
func errorTexts(err error) []string {
	var out []string
	for _, e := range errorTree(err) {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q"} {
			out = append(out, fmt.Sprintf(verb, e))
		}
	}
	return out
}

func lookup(vars map[string]string) func(string) (string, bool) {
	return func(name string) (string, bool) {
		v, ok := vars[name]
		return v, ok
	}
}

func TestResolverFunc(t *testing.T) {
	var r config.Resolver = config.ResolverFunc(func(_ context.Context, ref string) (string, error) { return "v:" + ref, nil })
	v, err := r.Resolve(t.Context(), "x://y")
	require.NoError(t, err)
	assert.Equal(t, "v:x://y", v)
}

func TestEnvResolver(t *testing.T) {
	r := config.EnvResolver{Lookup: lookup(map[string]string{"DB_PASS": secretValue, "EMPTY": ""})}
	v, err := r.Resolve(t.Context(), "env://DB_PASS")
	require.NoError(t, err)
	assert.Equal(t, secretValue, v)

	v, err = r.Resolve(t.Context(), "env://EMPTY")
	require.NoError(t, err, "set but empty is a value")
	assert.Empty(t, v)

	_, err = r.Resolve(t.Context(), "env://MISSING")
	require.ErrorIs(t, err, config.ErrUnresolved)
	var re *config.ResolveError
	require.ErrorAs(t, err, &re)
	assert.Equal(t, "env://MISSING", re.Ref)
	assert.Equal(t, "config: resolve env://MISSING: secret reference not resolved: environment variable MISSING is not set", err.Error())

	for _, ref := range []string{"env://", "env:DB_PASS", "env://DB-PASS", "env://DB_PASS/x", "env://DB_PASS?x=1", "file:///DB_PASS", "ENV://DB_PASS"} {
		_, err := r.Resolve(t.Context(), ref)
		require.ErrorIs(t, err, config.ErrUnresolved, ref)
		require.ErrorIs(t, err, config.ErrInvalidReference, ref)
		assertNotIn(t, err, secretValue)
	}

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err = r.Resolve(ctx, "env://DB_PASS")
	require.ErrorIs(t, err, context.Canceled)
	require.ErrorIs(t, err, config.ErrUnresolved)
}

// TestEnvResolverDefault: a nil Lookup reads the process environment.
func TestEnvResolverDefault(t *testing.T) {
	t.Setenv("SLIPWAY_CONFIG_TEST_SECRET", secretValue)
	v, err := config.EnvResolver{}.Resolve(t.Context(), "env://SLIPWAY_CONFIG_TEST_SECRET")
	require.NoError(t, err)
	assert.Equal(t, secretValue, v)
	_, err = config.EnvResolver{}.Resolve(t.Context(), "env://SLIPWAY_CONFIG_TEST_UNSET_VARIABLE")
	require.ErrorIs(t, err, config.ErrUnresolved)
}

func fileRef(path string) string { return "file://" + filepath.ToSlash(path) }

func TestFileResolver(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "db_password")
	require.NoError(t, os.WriteFile(path, []byte(secretValue+"\n"), 0o600))

	for name, r := range map[string]config.FileResolver{"no root": {}, "root": {Root: dir}} {
		t.Run(name, func(t *testing.T) {
			v, err := r.Resolve(t.Context(), fileRef(path))
			require.NoError(t, err)
			assert.Equal(t, secretValue+"\n", v, "contents exactly as stored")

			_, err = r.Resolve(t.Context(), fileRef(filepath.Join(dir, "missing")))
			require.ErrorIs(t, err, config.ErrUnresolved)
			require.ErrorIs(t, err, fs.ErrNotExist)
			assert.Contains(t, err.Error(), "resolve "+fileRef(filepath.Join(dir, "missing")))

			_, err = r.Resolve(t.Context(), fileRef(dir))
			require.ErrorIs(t, err, config.ErrUnresolved)
			assert.Contains(t, err.Error(), "not a regular file")
		})
	}
}

func TestFileResolverSize(t *testing.T) {
	dir := t.TempDir()
	largest := filepath.Join(dir, "largest")
	require.NoError(t, os.WriteFile(largest, []byte(strings.Repeat("a", config.MaxSecretFileSize)), 0o600))
	v, err := config.FileResolver{}.Resolve(t.Context(), fileRef(largest))
	require.NoError(t, err)
	assert.Len(t, v, config.MaxSecretFileSize)

	big := filepath.Join(dir, "big")
	require.NoError(t, os.WriteFile(big, []byte(secretValue+strings.Repeat("a", config.MaxSecretFileSize)), 0o600))
	for _, r := range []config.FileResolver{{}, {Root: dir}} {
		_, err := r.Resolve(t.Context(), fileRef(big))
		require.ErrorIs(t, err, config.ErrUnresolved)
		assert.Contains(t, err.Error(), "larger than 65536 bytes")
		assertNotIn(t, err, secretValue)
	}
}

func TestFileResolverRoot(t *testing.T) {
	outside := t.TempDir()
	target := filepath.Join(outside, "target")
	require.NoError(t, os.WriteFile(target, []byte(secretValue), 0o600))

	root := t.TempDir()
	require.NoError(t, os.Mkdir(filepath.Join(root, "sub"), 0o700))
	require.NoError(t, os.WriteFile(filepath.Join(root, "sub", "inside"), []byte("in"), 0o600))
	require.NoError(t, os.Symlink(target, filepath.Join(root, "absolute-link")))
	rel, err := filepath.Rel(root, target)
	require.NoError(t, err)
	require.NoError(t, os.Symlink(rel, filepath.Join(root, "relative-escape")))
	require.NoError(t, os.Symlink("sub/inside", filepath.Join(root, "inner-link")))
	require.NoError(t, os.Symlink(outside, filepath.Join(root, "dir-link")))

	r := config.FileResolver{Root: root}
	v, err := r.Resolve(t.Context(), fileRef(filepath.Join(root, "inner-link")))
	require.NoError(t, err, "a link that stays inside Root is followed")
	assert.Equal(t, "in", v)

	for name, ref := range map[string]string{
		"absolute link out":    fileRef(filepath.Join(root, "absolute-link")),
		"relative link out":    fileRef(filepath.Join(root, "relative-escape")),
		"directory link out":   fileRef(filepath.Join(root, "dir-link", "target")),
		"path outside":         fileRef(target),
		"dot-dot out":          fileRef(root) + "/../" + filepath.Base(outside) + "/target",
		"root itself":          fileRef(root),
		"prefix is not inside": fileRef(root + "x/target"),
	} {
		t.Run(name, func(t *testing.T) {
			_, err := r.Resolve(t.Context(), ref)
			require.ErrorIs(t, err, config.ErrUnresolved)
			assertNotIn(t, err, secretValue)
		})
	}

	// Without Root the same links are followed: Root is what confines.
	v, err = config.FileResolver{}.Resolve(t.Context(), fileRef(filepath.Join(root, "relative-escape")))
	require.NoError(t, err)
	assert.Equal(t, secretValue, v)

	_, err = config.FileResolver{Root: "relative/dir"}.Resolve(t.Context(), fileRef(target))
	require.ErrorIs(t, err, config.ErrUnresolved)
	assert.Contains(t, err.Error(), "not an absolute path")
}

func TestFileResolverRefs(t *testing.T) {
	for _, ref := range []string{
		"file://run/secrets/db",      // a host, not a path
		"file:run/secrets/db",        // relative
		"file:///run/secrets/db?x=1", // query
		"file:///run/secrets/db#x",   // fragment
		"file:///run/secrets/%00db",  // NUL
		"file://",
		"env://X",
		"FILE:///run/secrets/db",
		"file://user:" + secretValue + "@host/run/secrets/db",
	} {
		_, err := config.FileResolver{}.Resolve(t.Context(), ref)
		require.ErrorIs(t, err, config.ErrUnresolved, ref)
		require.ErrorIs(t, err, config.ErrInvalidReference, ref)
		assertNotIn(t, err, secretValue)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := config.FileResolver{}.Resolve(ctx, "file:///etc/hostname")
	require.ErrorIs(t, err, context.Canceled)
}

// TestFileResolverFIFO: a named pipe is refused before it is opened, which
// would block until a writer came.
func TestFileResolverFIFO(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	_, err := config.FileResolver{}.Resolve(t.Context(), fileRef(fifo))
	require.ErrorIs(t, err, config.ErrUnresolved)
	assert.Contains(t, err.Error(), "not a regular file")
}

func TestSchemes(t *testing.T) {
	s := config.Schemes{
		"env":   config.EnvResolver{Lookup: lookup(map[string]string{"A": "from-env"})},
		"vault": config.ResolverFunc(func(_ context.Context, ref string) (string, error) { return "from-vault", nil }),
		"nil":   nil,
	}
	v, err := s.Resolve(t.Context(), "env://A")
	require.NoError(t, err)
	assert.Equal(t, "from-env", v)
	v, err = s.Resolve(t.Context(), "vault://kv/x#y")
	require.NoError(t, err)
	assert.Equal(t, "from-vault", v)

	for _, scheme := range []string{"awssm", "nil"} {
		_, err = s.Resolve(t.Context(), scheme+"://shop/db")
		require.ErrorIs(t, err, config.ErrUnresolved)
		var re *config.ResolveError
		require.ErrorAs(t, err, &re)
		assert.Equal(t, scheme+"://shop/db", re.Ref)
		assert.Contains(t, err.Error(), fmt.Sprintf("no resolver for scheme %q", scheme))
	}

	for _, ref := range []string{"VAULT://kv/x", "kv/x", "vault://root:" + secretValue + "@vault/kv", ""} {
		_, err = s.Resolve(t.Context(), ref)
		require.ErrorIs(t, err, config.ErrUnresolved, ref)
		require.ErrorIs(t, err, config.ErrInvalidReference, ref)
		assertNotIn(t, err, secretValue, "VAULT", "root:")
		if ref != "" {
			assertNotIn(t, err, ref)
		}
	}
}

func TestConfigResolve(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "key"), []byte("file-"+secretValue), 0o600))
	c, err := config.New("shop", "prod", config.Spec{
		Env: map[string]string{"PORT": "8080"},
		Secrets: map[string]string{
			"DB_PASSWORD": "env://SHOP_DB_PASSWORD",
			"API_KEY":     fileRef(filepath.Join(dir, "key")),
		},
	}, config.Options{})
	require.NoError(t, err)
	r := config.Schemes{
		"env":  config.EnvResolver{Lookup: lookup(map[string]string{"SHOP_DB_PASSWORD": "env-" + secretValue})},
		"file": config.FileResolver{Root: dir},
	}

	env, err := c.Resolve(t.Context(), r)
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"PORT": "8080", "DB_PASSWORD": "env-" + secretValue, "API_KEY": "file-" + secretValue}, env)
	assert.NotContains(t, string(c.Bytes()), secretValue, "resolving changes nothing in the config")
	assert.Equal(t, map[string]string{"PORT": "8080"}, c.Env())

	env["PORT"] = "1"
	assert.Equal(t, "8080", c.Env()["PORT"])

	// Config without secrets needs no resolver.
	plain, err := c.Without("DB_PASSWORD")
	require.NoError(t, err)
	plain, err = plain.Without("API_KEY")
	require.NoError(t, err)
	env, err = plain.Resolve(t.Context(), nil)
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"PORT": "8080"}, env)
}

// TestConfigResolveErrors: every failure is reported, each naming its
// variable and reference and wrapping ErrUnresolved; no value appears.
func TestConfigResolveErrors(t *testing.T) {
	c, err := config.New("shop", "prod", config.Spec{
		Env: map[string]string{"PORT": "8080"},
		Secrets: map[string]string{
			"A_OK":      "env://OK",
			"B_MISSING": "env://MISSING",
			"C_UNKNOWN": "vault://kv/shop#c",
			"D_BROKEN":  "broken://x",
			"E_NUL":     "nul://x",
		},
	}, config.Options{})
	require.NoError(t, err)
	failure := errors.New("backend down")
	r := config.Schemes{
		"env":    config.EnvResolver{Lookup: lookup(map[string]string{"OK": secretValue})},
		"broken": config.ResolverFunc(func(context.Context, string) (string, error) { return "", failure }),
		"nul":    config.ResolverFunc(func(context.Context, string) (string, error) { return secretValue + "\x00", nil }),
	}
	env, err := c.Resolve(t.Context(), r)
	require.Error(t, err)
	assert.Nil(t, env)
	assertNotIn(t, err, secretValue)
	require.ErrorIs(t, err, config.ErrUnresolved)
	require.ErrorIs(t, err, failure, "the cause is kept")

	var got []string
	for _, line := range strings.Split(err.Error(), "\n") {
		assert.True(t, strings.HasPrefix(line, "config: resolve "), line)
	}
	for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
		var re *config.ResolveError
		require.ErrorAs(t, e, &re)
		assert.ErrorIs(t, e, config.ErrUnresolved)
		got = append(got, re.Name+" "+re.Ref)
	}
	assert.Equal(t, []string{"B_MISSING env://MISSING", "C_UNKNOWN vault://kv/shop#c", "D_BROKEN broken://x", "E_NUL nul://x"}, got)
	assert.Contains(t, err.Error(), `config: resolve "B_MISSING" (env://MISSING): secret reference not resolved: environment variable MISSING is not set`)

	_, err = c.Resolve(t.Context(), nil)
	require.ErrorIs(t, err, config.ErrUnresolved)

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err = c.Resolve(ctx, r)
	require.ErrorIs(t, err, context.Canceled)
	require.ErrorIs(t, err, config.ErrUnresolved)
}
