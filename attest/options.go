package attest

// SignOptions are the optional settings of [Sign] and [Attest]. The zero
// value writes both forms cosign reads.
type SignOptions struct {
	// SkipBundle writes no sigstore bundle referrer.
	SkipBundle bool
	// SkipLegacyTags writes no legacy sha256-<hex>.sig or .att tag.
	SkipLegacyTags bool
	// Name is the subject's name in statements and the docker-reference
	// of legacy signatures. If empty, the repository when dst is an
	// oras-go registry repository ("registry.example/acme/shop"), and
	// otherwise nothing.
	Name string
}

// VerifyOptions are the optional settings of [Verify]. The zero value
// requires a signature and no attestation.
type VerifyOptions struct {
	// Require lists predicate types of which at least one attestation
	// signed by a trusted key and about the subject must verify.
	Require []string
}
