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
// # Observed with cosign v3.1.3 (the tests pin most of it)
//
// Flags. Key-based signing with no transparency log needs
// --use-signing-config=false (the default fetches a signing config from
// tuf-repo-cdn.sigstore.dev even with --key) and --tlog-upload=false
// (deprecated, but still the only way that also allows
// --new-bundle-format=false); without it cosign prompts for Rekor upload.
// --signing-config and --trusted-root files with no services (what
// `cosign signing-config create` and `cosign trusted-root create` write
// without flags) also work for bundles. --yes is not needed and not passed:
// with stdin empty, any prompt fails instead of consenting. Verifying with
// --key needs --insecure-ignore-tlog, else cosign fetches the trusted root
// from TUF. --allow-http-registry is passed but not needed on 127.0.0.1:
// cosign's registry client already speaks plain HTTP to loopback hosts.
//
// Bundles (the default). sign and attest each push one referrer manifest:
// artifactType and the config descriptor's artifactType
// "application/vnd.dev.sigstore.bundle.v0.3+json", config the empty
// descriptor, one layer of the bundle media type, subject the artifact, and
// annotations dev.sigstore.bundle.content=dsse-envelope,
// dev.sigstore.bundle.predicateType=<type URI> and
// org.opencontainers.image.created. The bundle layer is
// {"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json",
// "verificationMaterial":{"publicKey":{"hint":"<base64 SHA-256 of the PKIX
// DER key>"}},"dsseEnvelope":{"payload":…,"payloadType":
// "application/vnd.in-toto+json","signatures":[{"sig":…}]}}, without keyid.
// sign's statement is Statement/v1 with predicateType
// https://sigstore.dev/cosign/sign/v1, predicate {} and a subject with only
// the digest (and empty annotations); attest's is Statement/v0.1 whose
// subject is named after the repository ("127.0.0.1:PORT/acme/shop").
//
// Registries. On ggcr with the referrers API cosign writes no tag (it asks
// GET /referrers after the manifest PUT, which returns no OCI-Subject), and
// verify finds the bundles although ggcr lists them with artifactType
// "application/vnd.oci.empty.v1+json": cosign lists referrers without a
// filter and parses every manifest. On ggcr without the API and on
// docker-registry it writes the referrers tag sha256-<hex>, an index whose
// entries carry artifactType but no annotations, and verify reads it after
// the referrers endpoint answers 404.
//
// Legacy (--new-bundle-format=false, same on all three registries). sign
// writes tag sha256-<hex>.sig, attest sha256-<hex>.att: image manifests
// without artifactType or subject, config "application/vnd.oci.image.config.v1+json"
// holding {"architecture":"","created":"0001-01-01T00:00:00Z","history":
// [{"created":"0001-01-01T00:00:00Z"}],"os":"","rootfs":{"type":"layers",
// "diff_ids":["<layer digest>"]},"config":{}}. The .sig layer is
// "application/vnd.dev.cosign.simplesigning.v1+json" ({"critical":{"identity":
// {"docker-reference":"<repo>"},"image":{"docker-manifest-digest":"sha256:…"},
// "type":"cosign container image signature"},"optional":null}) with
// annotation dev.cosignproject.cosign/signature=<base64 signature>; the .att
// layer is "application/vnd.dsse.envelope.v1+json" with annotations
// dev.cosignproject.cosign/signature="" and predicateType=<type URI>.
//
// Verify. cosign verify reads bundles when there are any, else the .sig tag.
// It accepts any bundle the key signed as a signature: an artifact carrying
// only an attestation passes `cosign verify`, printing the attestation's
// predicate type as critical.type. With another key it exits 1 (bundle) or
// 12 (legacy); with nothing to verify it says "no signatures found" (exit
// 10). verify-attestation --type T fails with "none of the attestations
// matched the predicate type" when only other types verify.
//
// Wall time per invocation on this machine (2 cores): generate-key-pair,
// sign and attest 0.22–0.33 s, of which about 0.2 s is scrypt (N=2^16)
// decrypting the key (`cosign public-key` alone takes 0.22–0.27 s);
// verify and verify-attestation 0.035–0.055 s; version 0.03 s (process
// start).
package cosigntest
