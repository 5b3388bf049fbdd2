package attest_test

import (
	"bytes"
	"crypto"
	"io"
)

const cryptoHash = crypto.SHA256

func bytesReader(b []byte) io.Reader { return bytes.NewReader(b) }
