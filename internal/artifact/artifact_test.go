package artifact

import (
	"errors"
	"testing"

	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/stretchr/testify/assert"
)

var errType, errVersion = errors.New("type"), errors.New("version")

func TestCheckType(t *testing.T) {
	const build = "application/vnd.slipway.build.v1+json"
	m := func(at, cfg string) *ocispec.Manifest {
		return &ocispec.Manifest{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageManifest,
			ArtifactType: at, Config: ocispec.Descriptor{MediaType: cfg}}
	}
	cases := []struct {
		name string
		m    *ocispec.Manifest
		want error
	}{
		{"v1", m(build, build), nil},
		{"v1 without artifactType", m("", build), nil},
		{"v2", m("application/vnd.slipway.build.v2+json", build), errVersion},
		{"another slipway kind of v2", m("application/vnd.slipway.release.v2+json", build), errType},
		{"an image", m("", ocispec.MediaTypeImageConfig), errType},
		{"config of another type", m(build, ocispec.MediaTypeEmptyJSON), errType},
		{"an index", &ocispec.Manifest{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageIndex}, errType},
		{"schema 1", &ocispec.Manifest{Versioned: specs.Versioned{SchemaVersion: 1}}, errType},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckType(tc.m, build, errType, errVersion)
			if tc.want == nil {
				assert.NoError(t, err)
				return
			}
			assert.ErrorIs(t, err, tc.want)
		})
	}
}
