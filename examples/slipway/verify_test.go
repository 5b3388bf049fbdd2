package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/slipway-dev/slipway/attest"
	"github.com/slipway-dev/slipway/internal/cosigntest"
	"github.com/slipway-dev/slipway/internal/registrytest"
	"github.com/slipway-dev/slipway/release"
)

func TestKeygen(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "keys")
	out := mustRun(t, "keygen", "--out", dir)
	priv, err := os.ReadFile(filepath.Join(dir, "slipway.key"))
	require.NoError(t, err)
	info, err := os.Stat(filepath.Join(dir, "slipway.key"))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), info.Mode().Perm())
	assert.Contains(t, string(priv), "-----BEGIN PRIVATE KEY-----")
	pub, err := os.ReadFile(filepath.Join(dir, "slipway.pub"))
	require.NoError(t, err)
	assert.Contains(t, string(pub), "-----BEGIN PUBLIC KEY-----")
	assert.NotContains(t, out, strings.TrimSpace(string(priv)[30:60]), "the private key is never printed")

	s, err := attest.LoadPrivateKey(priv, nil)
	require.NoError(t, err)
	id, err := attest.KeyIDOf(t.Context(), s)
	require.NoError(t, err)
	assert.Contains(t, out, "Key ID: "+id+"\n")

	// Never overwrites.
	code, _, stderr := slipway(t, "keygen", "--out", dir)
	assert.Equal(t, exitError, code)
	assert.Contains(t, stderr, "exists")
	again, err := os.ReadFile(filepath.Join(dir, "slipway.key"))
	require.NoError(t, err)
	assert.Equal(t, priv, again)
}

func TestReleaseSignVerify(t *testing.T) {
	for _, p := range verifyPlaces(t) {
		t.Run(p.flag+" "+filepath.Base(p.repo), func(t *testing.T) {
			t.Setenv("SOURCE_DATE_EPOCH", sourceDateEpoch)
			keys, other := filepath.Join(t.TempDir(), "k"), filepath.Join(t.TempDir(), "o")
			mustRun(t, "keygen", "--out", keys)
			mustRun(t, "keygen", "--out", other)
			storeBuild(t, p, appTree(t), "v1")
			out := mustRun(t, "release", p.flag, "--key", filepath.Join(keys, "slipway.key"), "--build", "v1", "--config", prodConfig(t, "info"), p.repo)
			assert.Contains(t, out, "Signed: ")
			r1 := lastLine(t, out)
			out = mustRun(t, "release", p.flag, "--key", filepath.Join(keys, "slipway.key"), "--build", "v1", "--config", prodConfig(t, "debug"), p.repo)
			r2 := lastLine(t, out)

			out = mustRun(t, "verify", p.flag, "--key", filepath.Join(keys, "slipway.pub"), p.repo+":prod")
			assert.Contains(t, out, "Verified shop v2 in prod\n")
			assert.Contains(t, out, "Signatures: bundle and legacy by key ")
			assert.Contains(t, out, "Attestations: "+attest.PredicateSLSAProvenance)
			assert.Contains(t, out, "Ledger: prod-v2 follows v1 "+r1+"\n")
			assert.Equal(t, r2, lastLine(t, out))

			// Another key: rejected, exit 1, with the reason.
			code, stdout, stderr := slipway(t, "verify", p.flag, "--key", filepath.Join(other, "slipway.pub"), p.repo+":prod")
			assert.Equal(t, exitNo, code)
			assert.Contains(t, stdout, "Reason: no trusted key signed it")
			assert.Contains(t, stderr, "rejected")

			// Earlier versions verify by digest and by their version tag.
			mustRun(t, "verify", p.flag, "--key", filepath.Join(keys, "slipway.pub"), r1)
			code, stdout, _ = slipway(t, "verify", p.flag, "--key", filepath.Join(keys, "slipway.pub"), p.repo+":prod-v1")
			assert.Equal(t, exitOK, code, stdout)

			// Bad input: exit 2.
			code, _, stderr = slipway(t, "verify", p.flag, "--key", filepath.Join(keys, "slipway.key"), p.repo+":prod")
			assert.Equal(t, exitError, code, "a private key given as the public key")
			assert.NotContains(t, stderr, "PRIVATE KEY-----\n")
			code, _, _ = slipway(t, "verify", p.flag, "--key", filepath.Join(keys, "slipway.pub"), p.repo+":nosuchtag")
			assert.Equal(t, exitError, code)
			code, _, _ = slipway(t, "verify", p.flag, "--key", filepath.Join(keys, "slipway.pub"), "--attestation", "bogus", p.repo+":prod")
			assert.Equal(t, exitError, code)
		})
	}
}

func TestReleaseUnsignedRejected(t *testing.T) {
	t.Setenv("SOURCE_DATE_EPOCH", sourceDateEpoch)
	p := layoutPlace(filepath.Join(t.TempDir(), "shop"))
	keys := filepath.Join(t.TempDir(), "k")
	mustRun(t, "keygen", "--out", keys)
	storeBuild(t, p, appTree(t), "v1")
	mustRun(t, "release", p.flag, "--build", "v1", "--config", prodConfig(t, "info"), p.repo)
	code, stdout, _ := slipway(t, "verify", p.flag, "--key", filepath.Join(keys, "slipway.pub"), p.repo+":prod")
	assert.Equal(t, exitNo, code)
	assert.Contains(t, stdout, "Reason: not signed")
}

func TestReleaseEncryptedKey(t *testing.T) {
	t.Setenv("SOURCE_DATE_EPOCH", sourceDateEpoch)
	const secret = "correct horse battery staple"
	keys := filepath.Join(t.TempDir(), "k")
	mustRun(t, "keygen", "--out", keys)
	priv, err := os.ReadFile(filepath.Join(keys, "slipway.key"))
	require.NoError(t, err)
	enc, err := attest.EncryptPrivateKey(priv, []byte(secret))
	require.NoError(t, err)
	encPath := filepath.Join(keys, "enc.key")
	require.NoError(t, os.WriteFile(encPath, enc, 0o600))

	p := layoutPlace(filepath.Join(t.TempDir(), "shop"))
	storeBuild(t, p, appTree(t), "v1")
	for _, env := range []string{"SLIPWAY_PASSWORD", "COSIGN_PASSWORD"} {
		t.Run(env, func(t *testing.T) {
			t.Setenv("SLIPWAY_PASSWORD", "")
			os.Unsetenv("SLIPWAY_PASSWORD")
			t.Setenv(env, "wr0ng-pa55-XYZ")
			code, stdout, stderr := slipway(t, "release", p.flag, "--key", encPath, "--build", "v1", "--config", prodConfig(t, "info"), p.repo)
			assert.Equal(t, exitError, code)
			assert.Contains(t, stderr, "SLIPWAY_PASSWORD")
			assert.NotContains(t, stdout+stderr, "wr0ng-pa55-XYZ")

			t.Setenv(env, secret)
			out := mustRun(t, "release", p.flag, "--key", encPath, "--build", "v1", "--config", prodConfig(t, "info"), p.repo)
			assert.NotContains(t, out, secret)
			// Nothing stored holds the password or the private key.
			body := strings.Join(strings.Split(strings.TrimSpace(string(priv)), "\n")[1:3], "")
			require.NoError(t, filepath.WalkDir(p.repo, func(path string, d os.DirEntry, err error) error {
				if err != nil || d.IsDir() {
					return err
				}
				data, err := os.ReadFile(path)
				require.NoError(t, err)
				assert.NotContains(t, string(data), secret, path)
				assert.NotContains(t, string(data), body, path)
				return nil
			}))
			mustRun(t, "verify", p.flag, "--key", filepath.Join(keys, "slipway.pub"), p.repo+":prod")
		})
	}
}

// verifyPlaces are an OCI layout and each test registry.
func verifyPlaces(t *testing.T) []place {
	out := []place{layoutPlace(filepath.Join(t.TempDir(), "shop"))}
	for _, reg := range registrytest.All(t) {
		out = append(out, registryPlace(reg, "acme/shop"))
	}
	return out
}

// TestVerifyCosignSigned: a release that only cosign signed, with a key
// from cosign generate-key-pair, verifies with slipway verify given
// cosign's public key; and slipway release signs with that cosign key.
func TestVerifyCosignSigned(t *testing.T) {
	cosign := cosigntest.New(t)
	const password = "cosign-cli-test"
	keyPath, pubPath := cosign.GenerateKeyPair(t, t.TempDir(), password)
	t.Setenv("SOURCE_DATE_EPOCH", sourceDateEpoch)
	for _, reg := range registrytest.All(t) {
		t.Run(reg.Name, func(t *testing.T) {
			p := registryPlace(reg, "acme/cosigned")
			storeBuild(t, p, appTree(t), "v1")
			ref := lastLine(t, mustRun(t, "release", p.flag, "--build", "v1", "--config", prodConfig(t, "info"), p.repo))

			code, stdout, _ := slipway(t, "verify", p.flag, "--key", pubPath, "--attestation", "none", p.repo+":prod")
			assert.Equal(t, exitNo, code, "unsigned: %s", stdout)

			out, err := cosign.Sign(t.Context(), ref, keyPath, password)
			require.NoError(t, err, out)
			out = mustRun(t, "verify", p.flag, "--key", pubPath, "--attestation", "none", p.repo+":prod")
			assert.Contains(t, out, "Verified shop v1 in prod\n")
			code, stdout, _ = slipway(t, "verify", p.flag, "--key", pubPath, p.repo+":prod")
			assert.Equal(t, exitNo, code, "provenance is required by default")
			assert.Contains(t, stdout, "a required attestation is missing")

			// slipway release with the cosign key; cosign verifies it.
			t.Setenv("COSIGN_PASSWORD", password)
			ref2 := lastLine(t, mustRun(t, "release", p.flag, "--key", keyPath, "--build", "v1", "--config", prodConfig(t, "debug"), p.repo))
			out = mustRun(t, "verify", p.flag, "--key", pubPath, p.repo+":prod")
			assert.Contains(t, out, "Verified shop v2 in prod\n")
			out, err = cosign.VerifyAttestation(t.Context(), ref2, pubPath, "slsaprovenance1")
			assert.NoError(t, err, out)
			assertNoSecretStored(t, p, password)
		})
	}
}

// assertNoSecretStored checks that no manifest or blob reachable from
// the release head holds s.
func assertNoSecretStored(t *testing.T, p place, s string) {
	t.Helper()
	r, err := release.Load(t.Context(), p.open(t), "prod")
	require.NoError(t, err)
	for _, b := range [][]byte{r.Manifest(), r.Config().Bytes(), r.Build().Manifest()} {
		assert.NotContains(t, string(b), s)
	}
	rec, _ := r.Record()
	assert.NotContains(t, string(rec), s)
}

// TestLayoutReleaseCopiedVerifiesWithCosign: a release signed in an OCI
// layout, copied with its referrers by oras cp -r into a registry, is
// what cosign verifies there: the bundles travel with it.
func TestLayoutReleaseCopiedVerifiesWithCosign(t *testing.T) {
	orasPath := orasCLI(t)
	cosign := cosigntest.New(t)
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	t.Setenv("SOURCE_DATE_EPOCH", sourceDateEpoch)
	keys := filepath.Join(t.TempDir(), "k")
	mustRun(t, "keygen", "--out", keys)
	p := layoutPlace(filepath.Join(t.TempDir(), "shop"))
	storeBuild(t, p, appTree(t), "v1")
	mustRun(t, "release", p.flag, "--key", filepath.Join(keys, "slipway.key"), "--build", "v1", "--config", prodConfig(t, "info"), p.repo)
	for _, reg := range registrytest.All(t) {
		t.Run(reg.Name, func(t *testing.T) {
			dst := reg.Ref("acme/copied:prod")
			cp := exec.CommandContext(t.Context(), orasPath, "cp", "-r", "--from-oci-layout", p.repo+":prod", "--to-plain-http", dst)
			out, err := cp.CombinedOutput()
			require.NoError(t, err, "oras cp: %s", out)
			pub := filepath.Join(keys, "slipway.pub")
			vout, err := cosign.Verify(t.Context(), dst, pub)
			assert.NoError(t, err, vout)
			aout, err := cosign.VerifyAttestation(t.Context(), dst, pub, "slsaprovenance1")
			assert.NoError(t, err, aout)
		})
	}
}
