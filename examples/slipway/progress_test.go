package main

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/slipway-dev/slipway/build"
)

func TestProgress(t *testing.T) {
	assert.Nil(t, newProgress(&bytes.Buffer{}), "no bar off a terminal")
	var quiet *progress
	quiet.stop() // no bar, nothing to do

	var buf bytes.Buffer
	p := &progress{w: &buf}
	p.update(build.Progress{Path: "bin/server", Done: 1 << 20, Total: 4 << 20})
	p.update(build.Progress{Path: "bin/server", Done: 4 << 20, Total: 4 << 20})
	p.stop()
	assert.Contains(t, buf.String(), "storing")
}
