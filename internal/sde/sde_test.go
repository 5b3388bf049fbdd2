package sde

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCreated(t *testing.T) {
	given := time.Date(2026, 3, 4, 5, 6, 7, 890, time.FixedZone("X", 3600))
	t.Setenv(Var, "1")
	got, err := Created(given)
	require.NoError(t, err)
	assert.Equal(t, time.Date(2026, 3, 4, 4, 6, 7, 0, time.UTC), got, "the caller's time wins, in UTC, whole seconds")

	got, err = Created(time.Time{})
	require.NoError(t, err)
	assert.Equal(t, time.Unix(1, 0).UTC(), got)

	t.Setenv(Var, "")
	got, err = Created(time.Time{})
	require.NoError(t, err)
	assert.Equal(t, time.Unix(0, 0).UTC(), got, "never the wall clock")

	for _, bad := range []string{"-1", "1.5", "now", "0x10"} {
		t.Setenv(Var, bad)
		_, err := Created(time.Time{})
		assert.ErrorContains(t, err, Var, bad)
	}
}
