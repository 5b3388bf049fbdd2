package build_test

import (
	"bytes"
	"context"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/stretchr/testify/require"
	"oras.land/oras-go/v2"
)

// tree is a file tree for tests: path → contents; a value starting with
// "->" makes a symlink to the rest.
type tree map[string]string

// write creates t under dir in the given order of paths (sorted, or
// reversed if reverse), with mode 0755 for paths under bin/.
func (tr tree) write(t testing.TB, dir string, reverse bool) {
	t.Helper()
	names := make([]string, 0, len(tr))
	for n := range tr {
		names = append(names, n)
	}
	sort.Strings(names)
	if reverse {
		sort.Sort(sort.Reverse(sort.StringSlice(names)))
	}
	for _, n := range names {
		p := filepath.Join(dir, filepath.FromSlash(n))
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		v := tr[n]
		if len(v) > 2 && v[:2] == "->" {
			require.NoError(t, os.Symlink(v[2:], p))
			continue
		}
		mode := fs.FileMode(0o644)
		if filepath.Dir(n) == "bin" {
			mode = 0o755
		}
		require.NoError(t, os.WriteFile(p, []byte(v), mode))
		require.NoError(t, os.Chmod(p, mode)) // umask-proof
	}
}

var demoTree = tree{
	"Procfile":          "web: bin/server\n",
	"bin/server":        "#!/bin/sh\necho serving\n",
	"config/app.toml":   "port = 8080\n",
	"static/index.html": "<h1>shop</h1>\n",
	"static/css/a.css":  "h1 { color: red }\n",
	"current":           "->bin/server",
}

var fixedTime = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// countingTarget wraps a target and counts the blob pushes it sees.
type countingTarget struct {
	oras.Target
	mu     sync.Mutex
	pushed map[digest.Digest]int
}

func newCounting(t oras.Target) *countingTarget {
	return &countingTarget{Target: t, pushed: map[digest.Digest]int{}}
}

func (c *countingTarget) Push(ctx context.Context, d ocispec.Descriptor, r io.Reader) error {
	c.mu.Lock()
	c.pushed[d.Digest]++
	c.mu.Unlock()
	return c.Target.Push(ctx, d, r)
}

func (c *countingTarget) pushes() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, v := range c.pushed {
		n += v
	}
	return n
}

// failingReader yields n bytes, then fails.
type failingReader struct {
	n   int
	err error
}

func (f *failingReader) Read(p []byte) (int, error) {
	if f.n == 0 {
		return 0, f.err
	}
	k := min(len(p), f.n)
	clear(p[:k])
	f.n -= k
	return k, nil
}

func readAll(t testing.TB, r io.ReadCloser) []byte {
	t.Helper()
	defer r.Close()
	var buf bytes.Buffer
	_, err := io.Copy(&buf, r)
	require.NoError(t, err)
	return buf.Bytes()
}
