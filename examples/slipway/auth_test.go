package main

import (
	"encoding/base64"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestDockerCredentials: a registry that wants basic auth, and a docker
// config with the login, as `docker login` or `oras login` writes it.
func TestDockerCredentials(t *testing.T) {
	const user, password = "ci-bot", "s3cr3t-Passw0rd"
	reg := registry.New(registry.Logger(log.New(io.Discard, "", 0)))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != user || p != password {
			w.Header().Set("WWW-Authenticate", `Basic realm="slipway-test"`)
			http.Error(w, `{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}`, http.StatusUnauthorized)
			return
		}
		reg.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	host := strings.TrimPrefix(srv.URL, "http://")
	dir := appTree(t)

	login := func(t *testing.T, pass string) {
		cfg := t.TempDir()
		auth := base64.StdEncoding.EncodeToString([]byte(user + ":" + pass))
		data := fmt.Sprintf(`{"auths":{%q:{"auth":%q}}}`, host, auth)
		require.NoError(t, os.WriteFile(filepath.Join(cfg, "config.json"), []byte(data), 0o600))
		t.Setenv("DOCKER_CONFIG", cfg)
	}

	t.Run("logged in", func(t *testing.T) {
		login(t, password)
		code, stdout, stderr := slipway(t, "build", "--plain-http", "--dir", dir, "--app", "shop", host+"/shop:v1")
		require.Equal(t, exitOK, code, "stderr: %s", stderr)
		assert.True(t, strings.HasPrefix(lastLine(t, stdout), host+"/shop@sha256:"))
	})
	for name, pass := range map[string]string{"wrong password": "not-the-" + password, "not logged in": ""} {
		t.Run(name, func(t *testing.T) {
			if pass == "" {
				t.Setenv("DOCKER_CONFIG", t.TempDir())
			} else {
				login(t, pass)
			}
			code, stdout, stderr := slipway(t, "build", "--plain-http", "--dir", dir, "--app", "shop", host+"/shop:v2")
			assert.Equal(t, exitError, code)
			assert.Empty(t, stdout)
			assert.Contains(t, stderr, "docker login")
			if pass != "" {
				assert.Contains(t, stderr, "401")
			}
			assert.NotContains(t, stderr, password)
			assert.NotContains(t, stderr, base64.StdEncoding.EncodeToString([]byte(user+":"+pass)))
		})
	}
}
