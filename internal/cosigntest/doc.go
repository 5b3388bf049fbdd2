// Package cosigntest runs the real cosign CLI, the release [Version] that
// .ci/run installs, so that interop tests can check that cosign verifies what
// slipway signs and that slipway verifies what `cosign sign --key` signs.
//
// [Binary] finds the executable, skipping the test when it is missing (or
// failing it when CI is "true"). [New] wraps it in a [Cosign] that runs every
// command hermetically: private HOME and XDG directories, no inherited
// environment, the password only in COSIGN_PASSWORD, and a proxy trap that
// makes any request beyond 127.0.0.1 fail at once and shows in
// [Cosign.Egress]. The shortest flow, with a registry from
// internal/registrytest:
//
//	cs := cosigntest.New(t)
//	key, pub := cs.GenerateKeyPair(t, t.TempDir(), "pw")
//	ref := reg.Ref("acme/shop@" + desc.Digest.String())
//	out, err := cs.Sign(ctx, ref, key, "pw")
//	require.NoError(t, err, out)
//	out, err = cs.Verify(ctx, ref, pub)
//	require.NoError(t, err, out)
//	sigs, err := cosigntest.Signatures(out) // sigs[0].ManifestDigest == desc.Digest.String()
//
// The flags each helper passes, and what cosign writes to the registry, are
// described on [Cosign.Sign], [Cosign.Attest], [Cosign.Verify] and
// [Cosign.VerifyAttestation].
package cosigntest
