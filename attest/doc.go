// Package attest signs OCI artifacts and verifies their signatures and
// attestations, in the forms cosign v3 reads, and holds [Summary], the
// consolidated security view every release record carries.
//
// A signature is an in-toto [Statement] of type [PredicateSign] about the
// artifact's manifest; an attestation is a statement of another predicate
// type, such as SLSA provenance ([Provenance]). Each is signed in a DSSE
// [Envelope] (the signature covers [PAE], never the JSON) and stored in two
// forms: a sigstore [Bundle] v0.3 as a referrer of the manifest, and a layer
// of cosign's legacy tag ([LegacyTag]: sha256-<hex>.sig or .att). Any
// sigstore signature.Signer signs: a key file, a KMS key, a hardware token.
// Keys are named by [KeyIDOf], the SHA-256 of the public key.
//
// The shortest flow:
//
//	err := attest.Sign(ctx, repo, desc, signer, attest.SignOptions{})
//	...
//	_, err = attest.Attest(ctx, repo, desc, attest.PredicateSLSAProvenance, prov, signer, attest.SignOptions{})
//	...
//	res, err := attest.Verify(ctx, repo, desc, []signature.Verifier{pub}, attest.VerifyOptions{
//		Require: []string{attest.PredicateSLSAProvenance},
//	})
//
// [Verify] reads both forms and fails closed: an error wraps
// [ErrNotSigned] when there is no signature at all, and otherwise the
// reason each signature was refused ([ErrUntrustedKey],
// [ErrSubjectMismatch], [ErrMalformed], …), for [errors.Is]. Key IDs and
// hints in the evidence are never trusted: every signature is tried with
// every trusted key, and a predicate type is read from the signed
// statement only. [Attached] lists what is attached to a manifest without
// reading it, so that a verifier that keeps results notices new evidence.
// [ParseEnvelope], [ParseBundle] and [ParseStatement] read
// untrusted bytes within size limits ([MaxEnvelopeSize],
// [MaxStatementSize]) and check form only.
//
// Evidence: [ParseSBOM] reads CycloneDX and SPDX JSON SBOMs and [GoSBOM]
// makes a CycloneDX 1.6 SBOM from Go build info; [ParseScan] reads Trivy,
// Grype, govulncheck and SARIF reports into normalized [Finding]s and
// [NewVulnPredicate] wraps one as cosign's vulnerability predicate;
// [ParseVEX] reads OpenVEX v0.2.0 documents and [ApplyVEX] applies their
// statements. [Summarize] computes a [Summary] from such predicates: a
// verifier recomputes it from the attested evidence and compares. Every
// reader of evidence bounds its input ([MaxEvidenceSize]) and reports a
// [*ParseError] naming the file, line, column and JSON path of a fault
// (docs/format.md, "Evidence and the security summary").
//
// Statements are byte for byte deterministic; ECDSA signatures are not.
// The bytes written, what verification checks in which order and the error
// of each failure are described in docs/format.md, "Signatures and
// attestations (v1)".
package attest
